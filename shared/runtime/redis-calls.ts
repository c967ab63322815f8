/**
 * Routing of Higress Redis replies: the host answers on the root id, so each call remembers the
 * stream that asked, and the reply is delivered only while that stream still lives.
 */
import { Status, BufferType, RedisStatus } from "../abi/enums";
import * as host from "../abi/hostcalls";
import { HttpContext } from "./context";
import { currentContextId, enter, getRoot, getStream } from "./registry";
import { logDebug } from "./log";
import { IdTable } from "./id-table";

/** Receives the raw RESP bytes of exactly one reply (none on a network error or timeout). */
export abstract class RedisCallback {
  /** The stream the reply runs on; null when it runs on the root `rootId`. Set by redisCall. */
  ownerStream: HttpContext | null = null;
  rootId: u32 = 0;
  /**
   * A reply that must arrive even after its stream has ended (a charge sent at the end of the
   * response): it runs on the stream's root context, so it may use no stream-scoped host call.
   */
  outlivesStream: bool = false;
  /** `size` bytes at `reply` (0 when there are none), readable only during this call. */
  abstract onRedisReply(status: RedisStatus, reply: usize, size: u32): void;
  /**
   * The reply to a call whose stream ended before it came (a reservation the stream can no longer
   * use must still be given back): runs on the root context, like an `outlivesStream` reply.
   * By default the reply is dropped.
   */
  onStreamGone(status: RedisStatus, reply: usize, size: u32): bool {
    return false;
  }
}

// Tokens come in sequence, and a stream has a call or two out at a time.
const pending = new IdTable<RedisCallback>();

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
  const stream = getStream(currentContextId);
  if (stream !== null && !callback.outlivesStream) callback.ownerStream = stream;
  else callback.rootId = stream !== null ? stream.root.id : currentContextId;
  pending.set(token, callback);
  return Status.Ok;
}

/** Dispatches proxy_on_redis_call_response; called with the root id the host delivered on. */
export function deliverRedisReply(token: u32, status: u32, size: u32): void {
  const call = pending.delete(token);
  if (call === null) return;
  const stream = call.ownerStream;
  let owner = call.rootId;
  // A stream's reply runs on the stream; once the stream is gone, on its root (onStreamGone).
  const gone = stream !== null && (stream.deleted || host.setEffectiveContext(stream.id) != Status.Ok);
  if (stream !== null) owner = gone ? stream.root.id : stream.id;
  if ((stream === null || gone) && getRoot(owner) === null) return;
  // Calls made from inside the callback belong to the same stream (or root).
  enter(owner);
  // The reply is read where the host put it: decoders copy what they keep.
  let reply: usize = 0;
  if (status == RedisStatus.Ok && size > 0) reply = host.borrowBufferBytes(BufferType.RedisCallResponse, 0, size);
  const replyStatus = status == RedisStatus.Ok ? RedisStatus.Ok : RedisStatus.NetworkError;
  const replySize = reply == 0 ? 0 : host.borrowedSize;
  if (!gone) call.onRedisReply(replyStatus, reply, replySize);
  else if (!call.onStreamGone(replyStatus, reply, replySize)) logDebug("redis reply dropped: its stream is gone");
  host.release(reply);
}
