/**
 * One typed wrapper per host call. Wrappers never trap: NotFound and Empty become null, other
 * statuses are returned to the caller. Pointer 0 from the host means an empty value.
 */
import * as imports from "./imports";
import { Status, LogLevel, MapType, BufferType, StreamType, MetricType } from "./enums";
import { adopt, adoptString, release } from "./memory";
import { RecentByIdentity } from "../text/by-identity";

export { release };

// Out-parameter slots: [data pointer, size] for blobs, or one u32/u64 value.
const slots = memory.data(16);

/** Whether the call that filled the slots succeeded; on failure the host's block (if any) is freed. */
// Inlined, like resetSlots: every host call that returns data passes through both.
@inline
function took(status: u32): bool {
  if (status == Status.Ok) return true;
  release(load<usize>(slots));
  return false;
}

function takeBlob(status: u32): ArrayBuffer | null {
  return took(status) ? adopt(load<usize>(slots), load<u32>(slots + 4)) : null;
}

/** Like takeBlob, left where the host put it: the pointer (0 on failure or when empty), the size in `borrowedSize`. */
function takeBorrowed(status: u32): usize {
  const ok = took(status);
  borrowedSize = ok ? load<u32>(slots + 4) : 0;
  return ok ? load<usize>(slots) : 0;
}

/** Like takeBlob, decoded as UTF-8 straight from the host's block (no intermediate buffer). */
function takeString(status: u32): string | null {
  return took(status) ? adoptString(load<usize>(slots), load<u32>(slots + 4)) : null;
}

@inline
function resetSlots(): void {
  store<u64>(slots, 0);
  store<u64>(slots + 8, 0);
}

// Header names come from code and configuration, never from requests: encode each once. The
// same few names (literals, config strings) come back on every request as the same objects, so a
// short list compared by identity answers before the map has to hash anything.
const encodedNames = new Map<string, ArrayBuffer>();
const MAX_ENCODED_NAMES = 256;
const recentNames = new RecentByIdentity<ArrayBuffer>(8);

/** The UTF-8 bytes of a header name, cached. */
export function encodeName(name: string): ArrayBuffer {
  const recent = recentNames.find(name);
  if (recent !== null) return recent;
  let bytes: ArrayBuffer;
  if (encodedNames.has(name)) bytes = encodedNames.get(name);
  else {
    bytes = String.UTF8.encode(name);
    if (encodedNames.size >= MAX_ENCODED_NAMES) return bytes;
    encodedNames.set(name, bytes);
  }
  recentNames.add(name, bytes);
  return bytes;
}

/** Last status returned by a wrapper that yields null, to tell NotFound from other failures. */
export let lastStatus: u32 = Status.Ok;

export function log(level: LogLevel, message: string): Status {
  const bytes = String.UTF8.encode(message);
  return <Status>imports.proxy_log(level, changetype<usize>(bytes), bytes.byteLength);
}

/** Envoy's current log level (6 = off); Info when the host does not say. */
export function getLogLevel(): LogLevel {
  resetSlots();
  if (imports.proxy_get_log_level(slots) != Status.Ok) return LogLevel.Info;
  return <LogLevel>load<u32>(slots);
}

export function getCurrentTimeNanoseconds(): u64 {
  resetSlots();
  imports.proxy_get_current_time_nanoseconds(slots);
  return load<u64>(slots);
}

export function setTickPeriodMilliseconds(period: u32): Status {
  return <Status>imports.proxy_set_tick_period_milliseconds(period);
}

/** proxy_get_buffer_bytes into the slots; returns its status. */
function bufferCall(bufferType: BufferType, start: u32, maxSize: u32): u32 {
  resetSlots();
  const status = imports.proxy_get_buffer_bytes(bufferType, start, maxSize, slots, slots + 4);
  lastStatus = status;
  return status;
}

/** Bytes [start, start+maxSize) of a buffer; null when the buffer is not available. Empty → empty buffer. */
export function getBufferBytes(bufferType: BufferType, start: u32, maxSize: u32): ArrayBuffer | null {
  return takeBlob(bufferCall(bufferType, start, maxSize));
}

/**
 * Bytes of a buffer left where the host put them, for a caller that only reads them: the pointer
 * (0 when unavailable or empty), with the size in `borrowedSize`. Hand it back with `release`.
 */
export let borrowedSize: u32 = 0;
export function borrowBufferBytes(bufferType: BufferType, start: u32, maxSize: u32): usize {
  return takeBorrowed(bufferCall(bufferType, start, maxSize));
}

/** Size of a buffer, or -1 when it is not available. */
export function getBufferSize(bufferType: BufferType): i64 {
  resetSlots();
  const status = imports.proxy_get_buffer_status(bufferType, slots, slots + 4);
  lastStatus = status;
  if (status != Status.Ok) return -1;
  return <i64>load<u32>(slots);
}

export function setBufferBytes(bufferType: BufferType, start: u32, size: u32, data: ArrayBuffer): Status {
  return <Status>imports.proxy_set_buffer_bytes(bufferType, start, size, changetype<usize>(data), data.byteLength);
}

/** The same with the data given as `length` bytes at `ptr` (the host copies them during the call). */
export function setBufferBytesAt(bufferType: BufferType, start: u32, size: u32, ptr: usize, length: usize): Status {
  return <Status>imports.proxy_set_buffer_bytes(bufferType, start, size, ptr, length);
}

/** proxy_get_header_map_value into the slots; returns its status. */
function headerCall(mapType: MapType, name: string): u32 {
  const key = encodeName(name);
  resetSlots();
  const status = imports.proxy_get_header_map_value(mapType, changetype<usize>(key), key.byteLength, slots, slots + 4);
  lastStatus = status;
  return status;
}

/** First value of a header as text; null when absent (NotFound) or when the map is not available. */
export function getHeaderMapValue(mapType: MapType, name: string): string | null {
  return takeString(headerCall(mapType, name));
}

/** Whether the header is present (with any value, empty included), without decoding the value the host copies. */
export function hasHeaderMapValue(mapType: MapType, name: string): bool {
  const present = took(headerCall(mapType, name));
  if (present) release(load<usize>(slots));
  return present;
}

/** The serialised pairs of a map (empty when unavailable, as Envoy answers). */
export function getHeaderMapPairs(mapType: MapType): ArrayBuffer {
  resetSlots();
  const status = imports.proxy_get_header_map_pairs(mapType, slots, slots + 4);
  lastStatus = status;
  const blob = takeBlob(status);
  return blob === null ? new ArrayBuffer(0) : blob;
}

export function setHeaderMapPairs(mapType: MapType, pairs: ArrayBuffer): Status {
  return <Status>imports.proxy_set_header_map_pairs(mapType, changetype<usize>(pairs), pairs.byteLength);
}

export function addHeaderMapValue(mapType: MapType, name: string, value: string): Status {
  const key = encodeName(name);
  const val = String.UTF8.encode(value);
  return <Status>imports.proxy_add_header_map_value(mapType, changetype<usize>(key), key.byteLength, changetype<usize>(val), val.byteLength);
}

export function replaceHeaderMapValue(mapType: MapType, name: string, value: string): Status {
  const key = encodeName(name);
  const val = String.UTF8.encode(value);
  return <Status>imports.proxy_replace_header_map_value(mapType, changetype<usize>(key), key.byteLength, changetype<usize>(val), val.byteLength);
}

export function removeHeaderMapValue(mapType: MapType, name: string): Status {
  const key = encodeName(name);
  return <Status>imports.proxy_remove_header_map_value(mapType, changetype<usize>(key), key.byteLength);
}

/** proxy_get_property into the slots; returns its status. */
function propertyCall(path: ArrayBuffer): u32 {
  resetSlots();
  const status = imports.proxy_get_property(changetype<usize>(path), path.byteLength, slots, slots + 4);
  lastStatus = status;
  return status;
}

/** Property value for a NUL-joined path; null when unknown. */
export function getProperty(path: ArrayBuffer): ArrayBuffer | null {
  return takeBlob(propertyCall(path));
}

/** A property's bytes left where the host put them (see borrowBufferBytes): the pointer, 0 when unknown or empty, size in `borrowedSize`. */
export function borrowProperty(path: ArrayBuffer): usize {
  return takeBorrowed(propertyCall(path));
}

/** The same, decoded as UTF-8. */
export function getPropertyString(path: ArrayBuffer): string | null {
  return takeString(propertyCall(path));
}

export function setProperty(path: ArrayBuffer, value: ArrayBuffer): Status {
  return setPropertyAt(path, changetype<usize>(value), value.byteLength);
}

/** The same, from `size` bytes at `ptr` (a writer's own buffer, not copied first). */
export function setPropertyAt(path: ArrayBuffer, ptr: usize, size: usize): Status {
  return <Status>imports.proxy_set_property(changetype<usize>(path), path.byteLength, ptr, size);
}

/** Runs after the current callback returns (Envoy defers it). */
export function continueStream(streamType: StreamType): Status {
  return <Status>imports.proxy_continue_stream(streamType);
}

export function closeStream(streamType: StreamType): Status {
  return <Status>imports.proxy_close_stream(streamType);
}

/** Sent after the current callback returns; a second call on one stream gets BadArgument. */
export function sendLocalResponse(statusCode: u32, details: string, body: ArrayBuffer, headers: ArrayBuffer): Status {
  const detailBytes = String.UTF8.encode(details);
  return <Status>imports.proxy_send_local_response(
    statusCode,
    changetype<usize>(detailBytes), detailBytes.byteLength,
    changetype<usize>(body), body.byteLength,
    changetype<usize>(headers), headers.byteLength,
    -1,
  );
}

/** BadArgument when the context is unknown or already deleted. */
export function setEffectiveContext(contextId: u32): Status {
  return <Status>imports.proxy_set_effective_context(contextId);
}

export function done(): Status {
  return <Status>imports.proxy_done();
}

/** The metric id, or 0 when the host refused. */
export function defineMetric(metricType: MetricType, name: string): u32 {
  const bytes = String.UTF8.encode(name);
  resetSlots();
  if (imports.proxy_define_metric(metricType, changetype<usize>(bytes), bytes.byteLength, slots) != Status.Ok) return 0;
  return load<u32>(slots);
}

export function incrementMetric(metricId: u32, offset: i64): Status {
  return <Status>imports.proxy_increment_metric(metricId, offset);
}

export function recordMetric(metricId: u32, value: u64): Status {
  return <Status>imports.proxy_record_metric(metricId, value);
}

export function getMetric(metricId: u32): u64 {
  resetSlots();
  if (imports.proxy_get_metric(metricId, slots) != Status.Ok) return 0;
  return load<u64>(slots);
}

/** Higress only. `cluster` may carry "?db=N". */
export function redisInit(cluster: string, username: string, password: string, timeoutMs: u32): Status {
  const c = String.UTF8.encode(cluster);
  const u = String.UTF8.encode(username);
  const p = String.UTF8.encode(password);
  return <Status>imports.proxy_redis_init(changetype<usize>(c), c.byteLength, changetype<usize>(u), u.byteLength, changetype<usize>(p), p.byteLength, timeoutMs);
}

/** Higress only. Returns the token, or 0 when the call was not dispatched (see lastStatus). */
export function redisCall(cluster: ArrayBuffer, query: usize, querySize: i32): u32 {
  resetSlots();
  const status = imports.proxy_redis_call(changetype<usize>(cluster), cluster.byteLength, query, querySize, slots);
  lastStatus = status;
  if (status != Status.Ok) return 0;
  return load<u32>(slots);
}
