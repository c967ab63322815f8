/**
 * Routing of Higress Redis replies: the host answers on the root id, so each token remembers the
 * stream that asked, and the reply is delivered only while that stream still lives.
 */
import { Status, BufferType, RedisStatus } from "../abi/enums";
import * as host from "../abi/hostcalls";
import { currentContextId, enter, isStream, getRoot, getStream } from "./registry";
import { logDebug } from "./log";

/** Receives the raw RESP bytes of exactly one reply (null on a network error or timeout). */
export abstract class RedisCallback {
  /** The context the reply runs on; set by redisCall. */
  contextId: u32 = 0;
  /**
   * A reply that must arrive even after its stream has ended (a charge sent at the end of the
   * response): it runs on the stream's root context, so it may use no stream-scoped host call.
   */
  outlivesStream: bool = false;
  abstract onRedisReply(status: RedisStatus, reply: ArrayBuffer | null): void;
}

const pending = new Map<u32, RedisCallback>();

/** Configures the cluster's client (credentials, operation timeout); no network I/O. */
export function redisInit(cluster: string, username: string, password: string, timeoutMs: u32): Status {
  return host.redisInit(cluster, username, password, timeoutMs);
}

/**
 * Sends one RESP command (`querySize` bytes at `query`, read before this returns) to the cluster
 * named by its UTF-8 bytes; on Ok the callback runs later, exactly once, unless its stream is gone
 * (or, with `outlivesStream`, its root).
 */
export function redisCall(cluster: ArrayBuffer, query: usize, querySize: i32, callback: RedisCallback): Status {
  const token = host.redisCall(cluster, query, querySize);
  if (token == 0) return <Status>host.lastStatus;
  let owner = currentContextId;
  if (callback.outlivesStream) {
    const stream = getStream(owner);
    if (stream !== null) owner = stream.root.id;
  }
  callback.contextId = owner;
  pending.set(token, callback);
  return Status.Ok;
}

/** Dispatches proxy_on_redis_call_response; called with the root id the host delivered on. */
export function deliverRedisReply(token: u32, status: u32, size: u32): void {
  if (!pending.has(token)) return;
  const call = pending.get(token);
  pending.delete(token);
  if (isStream(call.contextId)) {
    if (host.setEffectiveContext(call.contextId) != Status.Ok) {
      logDebug("redis reply dropped: its stream is gone");
      return;
    }
  } else if (getRoot(call.contextId) === null) {
    return;
  }
  // Calls made from inside the callback belong to the same stream.
  enter(call.contextId);
  let reply: ArrayBuffer | null = null;
  if (status == RedisStatus.Ok && size > 0) reply = host.getBufferBytes(BufferType.RedisCallResponse, 0, size);
  call.onRedisReply(status == RedisStatus.Ok ? RedisStatus.Ok : RedisStatus.NetworkError, reply);
}
