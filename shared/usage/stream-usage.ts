/**
 * Token usage of one HTTP stream, for the AI plugins: adds stream_options.include_usage to
 * streaming requests (decision A1) and reads the usage the response reports, chunk by chunk.
 * Call each method from the matching HttpContext callback.
 */
import {
  HeaderAction, DataAction, LogLevel, getRequestHeader, hasRequestHeader, setRequestHeader, getResponseHeader, requestBodySize, setRequestBody,
  BodyReader, readRequestBody, readResponseBody, setResponseBodyAt, logDebug, logEnabled,
} from "../index";
import { UsageReader, TokenUsage, readRequestInfoAt, injectStreamUsageAt, shouldReadUsage } from "../tokens/index";
import { indexOfAsciiCaseless } from "../text/index";
import { SseUsageFilter, ChunkSink, takeSseUsageFilter, returnSseUsageFilter } from "./sse-usage-filter";
import { markStreamRequest, streamUsageInjected } from "./injection-mark";

/** Puts a filtered chunk in place of the host's: replace its bytes, then append (Envoy's set_buffer_bytes rules). */
class ResponseChunk extends ChunkSink {
  size: u32 = 0;
  private written: u32 = 0;
  replace(ptr: usize, length: usize): void {
    setResponseBodyAt(0, this.size, ptr, length);
    this.written = <u32>length;
  }
  append(ptr: usize, length: usize): void {
    setResponseBodyAt(this.written, 0, ptr, length);
    this.written += <u32>length;
  }
}
const responseChunk = new ResponseChunk();

// Readers finished by earlier responses, reset and ready: a reader holds a dozen buffers.
const spareReaders = new Array<UsageReader>();
const MAX_SPARE_READERS = 16;

function takeReader(): UsageReader {
  return spareReaders.length > 0 ? spareReaders.pop() : new UsageReader();
}

function returnReader(reader: UsageReader): void {
  if (spareReaders.length >= MAX_SPARE_READERS) return;
  reader.reset();
  spareReaders.push(reader);
}

/** A whole JSON request body, read in place: its `model`, and the body with include_usage added when asked. */
class RequestBodyRead extends BodyReader {
  model: string = "";
  stream: bool = false;
  rewritten: ArrayBuffer | null = null;
  constructor(private readonly inject: bool) {
    super();
  }
  read(ptr: usize, size: usize): void {
    const info = readRequestInfoAt(ptr, <i32>size);
    this.model = info.model;
    this.stream = info.stream;
    if (this.inject) this.rewritten = injectStreamUsageAt(ptr, <i32>size, info);
  }
}

export class StreamUsage extends BodyReader {
  /** The request's top-level `model`, or "" when the body had none. */
  requestModel: string = "";
  private holdingHeaders: bool = false;
  private reader: UsageReader | null = null;
  private result: TokenUsage | null = null;
  /** A streaming request: this plugin was its first usage reader (injection-mark.ts) / added include_usage. */
  private firstReader: bool = false;
  private injected: bool = false;
  private filter: SseUsageFilter | null = null;
  private lastChunk: bool = false;

  constructor(private readonly inject: bool) {
    super();
  }

  /**
   * From onRequestHeaders: a JSON request body may need rewriting, so keep the headers (0.2.100
   * StopIteration still delivers the body) until the body is complete and content-length is right.
   */
  onRequestHeaders(endOfStream: bool): HeaderAction {
    if (endOfStream) return HeaderAction.Continue;
    const type = getRequestHeader("content-type");
    if (type === null || indexOfAsciiCaseless(type, "json") < 0) return HeaderAction.Continue;
    this.holdingHeaders = true;
    return HeaderAction.StopIteration;
  }

  /** True while the request headers wait for the whole body. */
  get waitingForBody(): bool {
    return this.holdingHeaders;
  }

  /** From onRequestBody: buffers to the end, then reads model/stream and injects include_usage. */
  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    if (!this.holdingHeaders) return DataAction.Continue;
    if (!endOfStream) return DataAction.StopIterationAndBuffer;
    this.readWholeBody(bodySize, false);
    return DataAction.Continue;
  }

  /** From onRequestTrailers: they end a request whose last body chunk did not, so the buffered body is whole. */
  onRequestTrailers(): void {
    if (this.holdingHeaders) this.readWholeBody(requestBodySize(), true);
  }

  /** A request ended by trailers is framed without content-length unless it came with one. */
  private readWholeBody(bodySize: u32, endedByTrailers: bool): void {
    this.holdingHeaders = false;
    const body = new RequestBodyRead(this.inject);
    readRequestBody(bodySize, body);
    this.requestModel = body.model;
    const rewritten = body.rewritten;
    this.injected = rewritten !== null;
    if (body.stream) this.firstReader = markStreamRequest(this.injected);
    if (rewritten !== null) {
      setRequestBody(0, bodySize, rewritten);
      if (!endedByTrailers || hasRequestHeader("content-length")) setRequestHeader("content-length", rewritten.byteLength.toString());
      if (logEnabled(LogLevel.Debug)) logDebug("added stream_options.include_usage to a streaming request");
    }
  }

  /**
   * From onResponseHeaders: compressed or binary bodies are skipped, as Higress does. When include_usage
   * was injected, the first usage reader also takes the usage-only event out of the SSE stream.
   */
  onResponseHeaders(): void {
    const type = getResponseHeader("content-type");
    if (shouldReadUsage(type, getResponseHeader("content-encoding"))) {
      this.reader = takeReader();
      if (this.firstReader && type !== null && indexOfAsciiCaseless(type, "event-stream") >= 0 && (this.injected || streamUsageInjected())) {
        this.filter = takeSseUsageFilter();
      }
    } else if (logEnabled(LogLevel.Debug)) {
      logDebug("response body not read for usage: compressed or not JSON/SSE");
    }
  }

  /** From onResponseBody: reads the chunk in place; at the end, the usage is available from `usage`. */
  onResponseBody(bodySize: u32, endOfStream: bool): void {
    const reader = this.reader;
    if (reader === null) return;
    this.lastChunk = endOfStream;
    if (bodySize > 0) readResponseBody(bodySize, this);
    else if (endOfStream) this.filterChunk(0, 0);
    if (endOfStream) {
      this.result = reader.finish();
      this.reader = null;
      returnReader(reader);
      const filter = this.filter;
      this.filter = null;
      if (filter !== null) returnSseUsageFilter(filter);
    }
  }

  /** The chunk's bytes, straight from the host's block: usage read first, then the client's copy filtered. */
  read(ptr: usize, size: usize): void {
    const reader = this.reader;
    if (reader !== null) reader.pushBytes(ptr, size);
    this.filterChunk(ptr, size);
  }

  private filterChunk(ptr: usize, size: usize): void {
    const filter = this.filter;
    if (filter === null) return;
    responseChunk.size = <u32>size;
    filter.push(ptr, size, this.lastChunk, responseChunk);
  }

  /** The usage the response reported, once its last chunk was read; null before or when none. */
  get usage(): TokenUsage | null {
    const result = this.result;
    return result !== null && result.found ? result : null;
  }
}
