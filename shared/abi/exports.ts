/**
 * Every callback the host calls, each a hop into the runtime. A plugin's index.ts starts with
 * `export * from "../../shared/abi/exports";` so these become the module's exports, markers first:
 * Higress takes the first known marker (0.2.100), plain Envoy skips it and uses 0.2.1. Every callback
 * but the allocator is bracketed by enter/leaveCallback, where garbage is collected (memory.ts).
 *
 * proxy_on_log and proxy_on_done are in exports-log.ts: Envoy skips a callback the module does not
 * export, so a plugin whose contexts never override onLog or onDone saves two calls per request.
 */
import * as dispatch from "../runtime/dispatch";
import { allocate, enterCallback, leaveCallback } from "./memory";
// The build routes `abort` here (--use abort=shared/abi/abort/onAbort).
import "./abort";

export function proxy_abi_version_0_2_100(): void {}
export function proxy_abi_version_0_2_1(): void {}

export function proxy_on_memory_allocate(size: u32): usize {
  return allocate(size);
}

export function proxy_on_context_create(contextId: u32, parentId: u32): void {
  enterCallback();
  dispatch.onContextCreate(contextId, parentId);
  leaveCallback();
}
export function proxy_on_vm_start(rootId: u32, vmConfigSize: u32): bool {
  enterCallback();
  const result = dispatch.onVmStart(rootId, vmConfigSize);
  leaveCallback();
  return result;
}
export function proxy_on_configure(rootId: u32, configSize: u32): bool {
  enterCallback();
  const result = dispatch.onConfigure(rootId, configSize);
  leaveCallback();
  return result;
}
export function proxy_on_tick(rootId: u32): void {
  enterCallback();
  dispatch.onTick(rootId);
  leaveCallback();
}
export function proxy_on_request_headers(contextId: u32, headerCount: u32, endOfStream: bool): u32 {
  enterCallback();
  const result = dispatch.onRequestHeaders(contextId, headerCount, endOfStream);
  leaveCallback();
  return result;
}
export function proxy_on_request_body(contextId: u32, bodySize: u32, endOfStream: bool): u32 {
  enterCallback();
  const result = dispatch.onRequestBody(contextId, bodySize, endOfStream);
  leaveCallback();
  return result;
}
export function proxy_on_request_trailers(contextId: u32, trailerCount: u32): u32 {
  enterCallback();
  const result = dispatch.onRequestTrailers(contextId, trailerCount);
  leaveCallback();
  return result;
}
export function proxy_on_response_headers(contextId: u32, headerCount: u32, endOfStream: bool): u32 {
  enterCallback();
  const result = dispatch.onResponseHeaders(contextId, headerCount, endOfStream);
  leaveCallback();
  return result;
}
export function proxy_on_response_body(contextId: u32, bodySize: u32, endOfStream: bool): u32 {
  enterCallback();
  const result = dispatch.onResponseBody(contextId, bodySize, endOfStream);
  leaveCallback();
  return result;
}
export function proxy_on_response_trailers(contextId: u32, trailerCount: u32): u32 {
  enterCallback();
  const result = dispatch.onResponseTrailers(contextId, trailerCount);
  leaveCallback();
  return result;
}
export function proxy_on_delete(contextId: u32): void {
  enterCallback();
  dispatch.onDelete(contextId);
  leaveCallback();
}
export function proxy_on_redis_call_response(rootId: u32, token: u32, status: u32, responseSize: u32): void {
  enterCallback();
  dispatch.onRedisCallResponse(rootId, token, status, responseSize);
  leaveCallback();
}
