/**
 * A Redis client over Higress's host calls: one command per call (G6), replies decoded for the
 * plugin, dispatch failures returned at once so a paused request never waits for nothing (G4).
 */
import { Status, RedisStatus } from "../abi/enums";
import { RedisCallback, redisInit, redisCall, logWarn } from "../index";
import { RedisConfig } from "./config";
import { RespValue, RespKind, RespReader, decodeReplyAt, CommandBuilder } from "./resp";

/** Higress's text for a network error or timeout. */
export const CANNOT_CONNECT = "cannot connect to redis cluster";
export const CANNOT_READ = "cannot read redis response";

/** Receives one decoded reply; network errors and undecodable bytes arrive as error values. */
export abstract class RedisReply extends RedisCallback {
  abstract onReply(reply: RespValue): void;

  onRedisReply(status: RedisStatus, reply: usize, size: u32): void {
    if (status != RedisStatus.Ok) {
      this.onReply(RespValue.error(CANNOT_CONNECT));
      return;
    }
    const value = reply == 0 ? RespValue.error(CANNOT_READ) : decodeReplyAt(reply, size);
    this.onReply(value.kind == RespKind.Invalid ? RespValue.error(CANNOT_READ) : value);
  }
}

/**
 * Why a reply read in place (with RespReader) is not the answer expected: Higress's texts for a
 * network error or nothing to read, else Redis's own error text, else CANNOT_READ.
 */
export function replyFailure(status: RedisStatus, reply: usize, size: u32): string {
  if (status != RedisStatus.Ok) return CANNOT_CONNECT;
  if (reply == 0) return CANNOT_READ;
  const error = RespReader.at(reply, size).error();
  return error !== null ? error : CANNOT_READ;
}

/** Null when the reply is one integer (what INCRBY, DECRBY and a counting script answer), else why not. */
export function integerReplyFailure(status: RedisStatus, reply: usize, size: u32): string | null {
  if (status == RedisStatus.Ok && reply != 0) {
    const reader = RespReader.at(reply, size);
    reader.int();
    if (reader.complete) return null;
  }
  return replyFailure(status, reply, size);
}

/** A Lua script encoded once, not on every request. */
export class RedisScript {
  constructor(readonly bytes: ArrayBuffer) {}

  static of(text: string): RedisScript {
    return new RedisScript(String.UTF8.encode(text));
  }

  /** A script embedded as `size` UTF-8 bytes at `ptr` (static data). */
  static at(ptr: usize, size: i32): RedisScript {
    const bytes = new ArrayBuffer(size);
    memory.copy(changetype<usize>(bytes), ptr, <usize>size);
    return new RedisScript(bytes);
  }
}

export class RedisClient {
  private ready: bool = false;

  constructor(readonly config: RedisConfig) {}

  /** Configures the host's client; on failure it is retried before the next command, as Higress. */
  init(): Status {
    const c = this.config;
    const status = redisInit(c.initName, c.username, c.password, <u32>c.timeoutMs);
    this.ready = status == Status.Ok;
    if (!this.ready) logWarn("redis init failed for cluster " + c.cluster + ": status " + status.toString());
    return status;
  }

  /** Sends one command; Ok means `reply` will run exactly once (unless the stream is gone). */
  command(args: Array<string>, reply: RedisCallback): Status {
    const builder = CommandBuilder.start(args.length);
    for (let i = 0; i < args.length; i++) builder.arg(unchecked(args[i]));
    return this.send(builder, reply);
  }

  /** Sends what `command` holds; the builder's buffer is free again once this returns. */
  send(command: CommandBuilder, reply: RedisCallback): Status {
    if (!this.ready && this.init() != Status.Ok) return Status.InternalFailure;
    return redisCall(this.config.clusterBytes, command.pointer, command.size, reply);
  }

  get(key: string, reply: RedisCallback): Status {
    return this.send(CommandBuilder.start(2).arg("get").arg(key), reply);
  }

  set(key: string, value: string, reply: RedisCallback): Status {
    return this.send(CommandBuilder.start(3).arg("set").arg(key).arg(value), reply);
  }

  incrBy(key: string, delta: i64, reply: RedisCallback): Status {
    return this.send(CommandBuilder.start(3).arg("incrby").arg(key).int(delta), reply);
  }

  decrBy(key: string, delta: i64, reply: RedisCallback): Status {
    return this.send(CommandBuilder.start(3).arg("decrby").arg(key).int(delta), reply);
  }

  expire(key: string, seconds: i64, reply: RedisCallback): Status {
    return this.send(CommandBuilder.start(3).arg("expire").arg(key).int(seconds), reply);
  }

  /** `eval <script> <numkeys> <keys…> <args…>`: the way to do several steps atomically. */
  eval(script: RedisScript, keys: Array<string>, args: Array<string>, reply: RedisCallback): Status {
    const builder = this.evalCommand(script, keys.length, keys.length + args.length);
    for (let i = 0; i < keys.length; i++) builder.arg(unchecked(keys[i]));
    for (let i = 0; i < args.length; i++) builder.arg(unchecked(args[i]));
    return this.send(builder, reply);
  }

  /** The start of an `eval` whose keys and arguments (`count` in all) the caller adds, then sends. */
  evalCommand(script: RedisScript, keyCount: i32, count: i32): CommandBuilder {
    return CommandBuilder.start(3 + count).arg("eval").bytes(script.bytes).int(keyCount);
  }
}
