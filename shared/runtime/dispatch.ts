/** Routes each host callback to its context object; unknown ids are ignored, never a trap. */
import { HeaderAction, DataAction, TrailersAction, BufferType } from "../abi/enums";
import * as host from "../abi/hostcalls";
import { enter, createContext, getRoot, getStream, deleteContext } from "./registry";
import { noteCallback } from "./log";
import { deliverRedisReply } from "./redis-calls";

function begin(contextId: u32): void {
  enter(contextId);
  noteCallback();
}

export function onContextCreate(contextId: u32, parentId: u32): void {
  begin(contextId);
  createContext(contextId, parentId);
}

export function onVmStart(rootId: u32, vmConfigSize: u32): bool {
  begin(rootId);
  const root = getRoot(rootId);
  return root === null ? true : root.onVmStart(vmConfigSize);
}

export function onConfigure(rootId: u32, configSize: u32): bool {
  begin(rootId);
  const root = getRoot(rootId);
  if (root === null) return false;
  let config: ArrayBuffer | null = null;
  if (configSize > 0) config = host.getBufferBytes(BufferType.PluginConfiguration, 0, configSize);
  return root.onConfigure(config);
}

export function onTick(rootId: u32): void {
  begin(rootId);
  const root = getRoot(rootId);
  if (root !== null) root.onTick();
}

export function onRequestHeaders(contextId: u32, headerCount: u32, endOfStream: bool): u32 {
  begin(contextId);
  const stream = getStream(contextId);
  return stream === null ? HeaderAction.Continue : stream.onRequestHeaders(headerCount, endOfStream);
}

export function onRequestBody(contextId: u32, bodySize: u32, endOfStream: bool): u32 {
  begin(contextId);
  const stream = getStream(contextId);
  return stream === null ? DataAction.Continue : stream.onRequestBody(bodySize, endOfStream);
}

export function onRequestTrailers(contextId: u32, trailerCount: u32): u32 {
  begin(contextId);
  const stream = getStream(contextId);
  return stream === null ? TrailersAction.Continue : stream.onRequestTrailers(trailerCount);
}

export function onResponseHeaders(contextId: u32, headerCount: u32, endOfStream: bool): u32 {
  begin(contextId);
  const stream = getStream(contextId);
  return stream === null ? HeaderAction.Continue : stream.onResponseHeaders(headerCount, endOfStream);
}

export function onResponseBody(contextId: u32, bodySize: u32, endOfStream: bool): u32 {
  begin(contextId);
  const stream = getStream(contextId);
  return stream === null ? DataAction.Continue : stream.onResponseBody(bodySize, endOfStream);
}

export function onResponseTrailers(contextId: u32, trailerCount: u32): u32 {
  begin(contextId);
  const stream = getStream(contextId);
  return stream === null ? TrailersAction.Continue : stream.onResponseTrailers(trailerCount);
}

export function onLog(contextId: u32): void {
  begin(contextId);
  const stream = getStream(contextId);
  if (stream !== null) stream.onLog();
}

/** For streams Envoy ignores the result; a root answering false defers its deletion. */
export function onDone(contextId: u32): bool {
  begin(contextId);
  const stream = getStream(contextId);
  if (stream !== null) {
    stream.onDone();
    return true;
  }
  const root = getRoot(contextId);
  return root === null ? true : root.onDone();
}

export function onDelete(contextId: u32): void {
  begin(contextId);
  const stream = getStream(contextId);
  if (stream !== null) stream.onDelete();
  else {
    const root = getRoot(contextId);
    if (root !== null) root.onDelete();
  }
  deleteContext(contextId);
}

export function onRedisCallResponse(rootId: u32, token: u32, status: u32, size: u32): void {
  begin(rootId);
  deliverRedisReply(token, status, size);
}
