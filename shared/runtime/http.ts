/** Header, body, local-reply and stream-control helpers for the HTTP context in progress. */
import { Status, MapType, BufferType, StreamType } from "../abi/enums";
import { Header, serializeHeaders, deserializeHeaders, headerValues } from "../abi/serde";
import * as host from "../abi/hostcalls";

export { Header };

const EMPTY = new ArrayBuffer(0);

/** First value of a request header, or null; only while request headers are available. */
export function getRequestHeader(name: string): string | null {
  return host.getHeaderMapValue(MapType.RequestHeaders, name);
}
/** Whether the request has the header, without decoding its value. */
export function hasRequestHeader(name: string): bool {
  return host.hasHeaderMapValue(MapType.RequestHeaders, name);
}
export function getRequestHeaders(): Array<Header> {
  return deserializeHeaders(host.getHeaderMapPairs(MapType.RequestHeaders));
}

/** The request headers as one buffer, to look up several names without decoding every header. */
export class HeaderPairs {
  constructor(private buffer: ArrayBuffer) {}
  /** Every value of `name` (lower-case), in order. */
  values(name: string): Array<string> {
    return headerValues(this.buffer, host.encodeName(name));
  }
}

export function getRequestHeaderPairs(): HeaderPairs {
  return new HeaderPairs(host.getHeaderMapPairs(MapType.RequestHeaders));
}
/** Replaces every value of the header with one. */
export function setRequestHeader(name: string, value: string): Status {
  return host.replaceHeaderMapValue(MapType.RequestHeaders, name, value);
}
export function addRequestHeader(name: string, value: string): Status {
  return host.addHeaderMapValue(MapType.RequestHeaders, name, value);
}
export function removeRequestHeader(name: string): Status {
  return host.removeHeaderMapValue(MapType.RequestHeaders, name);
}

export function getResponseHeader(name: string): string | null {
  return host.getHeaderMapValue(MapType.ResponseHeaders, name);
}
export function getResponseHeaders(): Array<Header> {
  return deserializeHeaders(host.getHeaderMapPairs(MapType.ResponseHeaders));
}
export function setResponseHeader(name: string, value: string): Status {
  return host.replaceHeaderMapValue(MapType.ResponseHeaders, name, value);
}
export function addResponseHeader(name: string, value: string): Status {
  return host.addHeaderMapValue(MapType.ResponseHeaders, name, value);
}
export function removeResponseHeader(name: string): Status {
  return host.removeHeaderMapValue(MapType.ResponseHeaders, name);
}

/** Body bytes seen by the body callback in progress; null when there is no body to read. */
export function getRequestBody(start: u32, length: u32): ArrayBuffer | null {
  return host.getBufferBytes(BufferType.HttpRequestBody, start, length);
}
/** Bytes of request body Envoy holds for this plugin (in a trailers callback: all it buffered); 0 when none. */
export function requestBodySize(): u32 {
  const size = host.getBufferSize(BufferType.HttpRequestBody);
  return size < 0 ? 0 : <u32>size;
}
/** start 0 replaces a prefix of `size` bytes; start ≥ length appends (Envoy's rules). */
export function setRequestBody(start: u32, size: u32, data: ArrayBuffer): Status {
  return host.setBufferBytes(BufferType.HttpRequestBody, start, size, data);
}
export function getResponseBody(start: u32, length: u32): ArrayBuffer | null {
  return host.getBufferBytes(BufferType.HttpResponseBody, start, length);
}
/**
 * Reads a body in place: `reader.read(ptr, size)` sees the host's bytes, which are freed when it
 * returns (no copy into a managed buffer). Not called when there is no body to read.
 */
export abstract class BodyReader {
  abstract read(ptr: usize, size: usize): void;
}
function readBody(bufferType: BufferType, size: u32, reader: BodyReader): void {
  const ptr = host.borrowBufferBytes(bufferType, 0, size);
  if (ptr == 0) return;
  reader.read(ptr, <usize>host.borrowedSize);
  host.release(ptr);
}
export function readRequestBody(size: u32, reader: BodyReader): void {
  readBody(BufferType.HttpRequestBody, size, reader);
}
export function readResponseBody(size: u32, reader: BodyReader): void {
  readBody(BufferType.HttpResponseBody, size, reader);
}
export function setResponseBody(start: u32, size: u32, data: ArrayBuffer): Status {
  return host.setBufferBytes(BufferType.HttpResponseBody, start, size, data);
}
/** setResponseBody with the data as `length` bytes at `ptr`, copied by the host: no managed buffer to build. */
export function setResponseBodyAt(start: u32, size: u32, ptr: usize, length: usize): Status {
  return host.setBufferBytesAt(BufferType.HttpResponseBody, start, size, ptr, length);
}

/** Answers the request locally once the callback returns; only the first call per stream counts. */
export function sendLocalResponse(status: u32, details: string, body: ArrayBuffer | null, headers: Array<Header> | null): Status {
  const pairs = headers === null || headers.length == 0 ? EMPTY : serializeHeaders(headers);
  return host.sendLocalResponse(status, details, body === null ? EMPTY : body, pairs);
}

/** Resumes a paused request after the callback returns; edit headers before calling it. */
export function continueRequest(): Status {
  return host.continueStream(StreamType.Request);
}
export function continueResponse(): Status {
  return host.continueStream(StreamType.Response);
}
