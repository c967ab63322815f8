/** Live contexts by id, the root factory, and which context the host is calling into now. */
import { RootContext, HttpContext } from "./context";
import { IdTable } from "./id-table";

let rootFactory: (id: u32) => RootContext = (id: u32): RootContext => new RootContext(id);

/**
 * Contexts by id, remembering the last one found: a stream's callbacks come in runs (headers,
 * body, Redis reply, …), and a plugin mostly has one root, asked for by every stream it creates
 * and every Redis reply. A context just created is the one the next callback is for.
 */
class Contexts<T> {
  private byId: IdTable<T> = new IdTable<T>();
  private lastId: u32 = 0;
  private last: T | null = null;

  find(id: u32): T | null {
    if (id == this.lastId && this.last !== null) return this.last;
    const found = this.byId.get(id);
    if (found === null) return null;
    this.lastId = id;
    this.last = found;
    return found;
  }

  set(id: u32, context: T): void {
    this.byId.set(id, context);
    this.lastId = id;
    this.last = context;
  }

  /** Removes and returns the context, or null when there was none. */
  remove(id: u32): T | null {
    if (id == this.lastId) this.last = null;
    return this.byId.delete(id);
  }
}

const roots = new Contexts<RootContext>();
const streams = new Contexts<HttpContext>();

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
  const known = roots.find(parentId);
  const root = known !== null ? known : rootFactory(parentId);
  // Envoy reuses no live id, but a host may reuse a deleted one: never serve a stale stream.
  const stale = streams.find(contextId);
  if (stale !== null) stale.deleted = true;
  streams.set(contextId, root.newHttpContext(contextId));
}

export function getRoot(contextId: u32): RootContext | null {
  return roots.find(contextId);
}

export function getStream(contextId: u32): HttpContext | null {
  return streams.find(contextId);
}

export function deleteContext(contextId: u32): void {
  const stream = streams.remove(contextId);
  if (stream !== null) stream.deleted = true;
  else roots.remove(contextId);
}
