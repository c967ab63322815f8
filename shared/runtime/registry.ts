/** Live contexts by id, the root factory, and which context the host is calling into now. */
import { RootContext, HttpContext } from "./context";

let rootFactory: (id: u32) => RootContext = (id: u32): RootContext => new RootContext(id);

const roots = new Map<u32, RootContext>();
const streams = new Map<u32, HttpContext>();
// A stream's callbacks come in runs (headers, body, Redis reply, …): remember the last one found.
let lastStreamId: u32 = 0;
let lastStream: HttpContext | null = null;

/** Id of the context of the callback in progress (0 outside callbacks). */
export let currentContextId: u32 = 0;

export function enter(contextId: u32): void {
  currentContextId = contextId;
}

/** Registers how root contexts are made; call once from a plugin's index.ts. */
export function setRootContextFactory(factory: (id: u32) => RootContext): void {
  rootFactory = factory;
}

export function createContext(contextId: u32, parentId: u32): void {
  if (parentId == 0) {
    roots.set(contextId, rootFactory(contextId));
    return;
  }
  // A stream whose root is unknown gets a do-nothing context rather than a trap.
  const root = roots.has(parentId) ? roots.get(parentId) : rootFactory(parentId);
  // Envoy reuses no live id, but a host may reuse a deleted one: never serve a stale stream.
  if (contextId == lastStreamId) lastStream = null;
  if (streams.has(contextId)) streams.get(contextId).deleted = true;
  streams.set(contextId, root.newHttpContext(contextId));
}

export function getRoot(contextId: u32): RootContext | null {
  return roots.has(contextId) ? roots.get(contextId) : null;
}

export function getStream(contextId: u32): HttpContext | null {
  if (contextId == lastStreamId && lastStream !== null) return lastStream;
  if (!streams.has(contextId)) return null;
  const stream = streams.get(contextId);
  lastStreamId = contextId;
  lastStream = stream;
  return stream;
}


export function deleteContext(contextId: u32): void {
  if (contextId == lastStreamId) lastStream = null;
  if (streams.has(contextId)) {
    streams.get(contextId).deleted = true;
    streams.delete(contextId);
  } else if (roots.has(contextId)) roots.delete(contextId);
}
