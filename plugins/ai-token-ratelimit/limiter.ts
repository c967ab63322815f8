/** One stream through the limiter: check before forwarding, charge at the end of the response. */
import {
  HttpContext, RootContext, HeaderAction, DataAction, TrailersAction, Status, RedisStatus, RedisCallback, Header, continueRequest,
  setResponseHeader, StreamCounters, logWarn, logDebug, logEnabled, LogLevel, nowNanos,
} from "../../shared/index";
import { RedisClient, RedisScript, RespReader, CommandBuilder, replyFailure, integerReplyFailure } from "../../shared/redis/index";
import { StreamUsage } from "../../shared/usage/stream-usage";
import { settledTokens } from "../../shared/usage/reservation";
import { TokenUsage } from "../../shared/tokens/index";
import { consumerOf } from "../../shared/identity/consumer";
import { refuseRequestBody } from "../../shared/usage/refusal";
import { sendReply } from "../../shared/reply/local-reply";
import { aiLog } from "../../shared/usage/ai-log";
import { RateLimitConfig } from "./config";
import { Counters, UNDECIDED, chooseCounters } from "./counters";
import { CHECK, CHARGE, RESERVE, SETTLE } from "./scripts";
import {
  RESET_HEADER, RETRY_AFTER_HEADER, LIMIT_HEADER, REMAINING_HEADER, POLICY_HEADER, RATELIMIT_HEADER, RATE_LIMITED, STORE_UNAVAILABLE, VALUE_TOO_LONG, RateLimitError,
} from "./errors";
import {
  RATE_LIMITED_METRIC, INPUT_TOKEN_METRIC, OUTPUT_TOKEN_METRIC, ESTIMATED_TOKEN_METRIC, STORE_FAILURE_METRIC, CHARGE_FAILURE_METRIC,
  REQUEST_BODY_REFUSED_METRIC, VALUE_TOO_LONG_METRIC,
} from "./metrics";
import { LIMITED_STATUS, STATUS_KEY, INPUT_TOKEN_KEY, OUTPUT_TOKEN_KEY, ESTIMATED_KEY } from "./ai-log-keys";

/** Both scripts: KEYS = one per counter, ARGV = threshold and window per counter, then `extra` more. */
function scriptCommand(client: RedisClient, script: RedisScript, counters: Counters, extra: i32): CommandBuilder {
  const limits = counters.limits;
  const command = client.evalCommand(script, limits.length, 3 * limits.length + extra);
  for (let i = 0; i < limits.length; i++) command.joined(limits[i].keyBytes, counters.value);
  for (let i = 0; i < limits.length; i++) command.encoded(limits[i].scriptArgs);
  return command;
}

class CheckReply extends RedisCallback {
  constructor(private stream: LimitedStream) {
    super();
  }
  onRedisReply(status: RedisStatus, reply: usize, size: u32): void {
    // Both scripts answer with integers only, so replies are read in place.
    if (status == RedisStatus.Ok && reply != 0 && this.stream.onCheck(RespReader.at(reply, size))) return;
    this.stream.onCheckFailed(replyFailure(status, reply, size));
  }
}

/** The reservation's reply (reserve.lua); its stream may have ended meanwhile. */
class ReserveReply extends RedisCallback {
  constructor(private stream: LimitedStream) {
    super();
  }
  onRedisReply(status: RedisStatus, reply: usize, size: u32): void {
    if (status == RedisStatus.Ok && reply != 0 && this.stream.onReserve(RespReader.at(reply, size))) return;
    this.stream.onCheckFailed(replyFailure(status, reply, size));
  }
  /** The stream ended (client gone) while the reservation was out: nothing was served, so all of it is given back. */
  onStreamGone(status: RedisStatus, reply: usize, size: u32): bool {
    if (status == RedisStatus.Ok && reply != 0) this.stream.onReserve(RespReader.at(reply, size), true);
    return true;
  }
}

/** Milliseconds on the gateway's clock, for a reservation's windows. */
function nowMillis(): i64 {
  return <i64>(nowNanos() / 1_000_000);
}

/** Runs after the stream has ended, on the root context: only logs and counts. */
class ChargeReply extends RedisCallback {
  constructor(private stream: LimitedStream) {
    super();
    this.outlivesStream = true;
  }
  onRedisReply(status: RedisStatus, reply: usize, size: u32): void {
    // The script answers the number of counters charged.
    const failure = integerReplyFailure(status, reply, size);
    if (failure === null) return;
    logWarn("ai-token-ratelimit: charge failed: " + failure);
    this.stream.count(CHARGE_FAILURE_METRIC, "none", 1);
  }
}

export class LimitedStream extends HttpContext {
  config: RateLimitConfig | null = null;
  client: RedisClient | null = null;
  counters: Counters | null = null;
  usage: StreamUsage | null = null;
  waitingForCheck: bool = false;
  rejected: bool = false;
  /** False in onDelete, when the stream's filter state (ai_log) can no longer be written. */
  live: bool = true;
  /** The tightest window after the check: what is left, its threshold and seconds to reset. */
  remaining: i64 = -1;
  limit: i64 = -1;
  limitReset: i64 = 0;
  metrics: StreamCounters = new StreamCounters();
  /** With reserve_tokens: the check goes out once the body is read, and takes `reserved` (-1 until taken). */
  checkSent: bool = false;
  reserved: i64 = -1;
  private reserving: i64 = 0;
  /** When each counter's window ends, on the gateway's clock (ms), as the reservation found it. */
  private windowEnds: Array<i64> | null = null;

  constructor(id: u32, root: RootContext) {
    super(id, root);
  }

  /** Called by index.ts with the selected config; returns the headers action. */
  begin(config: RateLimitConfig, client: RedisClient, endOfStream: bool): HeaderAction {
    this.config = config;
    this.client = client;
    const consumer = consumerOf(config.authenticatedConsumerOnly);
    if (consumer !== null) this.metrics.consumer = consumer;
    const usage = new StreamUsage(config.usage);
    this.usage = usage;
    const usageAction = usage.onRequestHeaders(endOfStream);
    const counters = chooseCounters(config);
    if (counters === UNDECIDED) return this.refuse(VALUE_TOO_LONG, VALUE_TOO_LONG_METRIC);
    this.counters = counters;
    if (counters === null) return usageAction;
    if (this.refusedBody()) return HeaderAction.StopIteration;
    // A reservation is sized by the body: it goes out once the body is read (now, when there is none).
    if (this.sizedByBody && usage.waitingForBody) return HeaderAction.StopIteration;
    if (this.sendCheck()) return this.rejected ? HeaderAction.Continue : HeaderAction.StopIteration;
    return usageAction;
  }

  /** With reserve_tokens, until the check is sent: the request waits for its body to be read. */
  private get sizedByBody(): bool {
    return this.config!.usage.reserve && !this.checkSent && this.counters !== null;
  }

  /**
   * The check: check.lua, or with reserve_tokens reserve.lua. True when the stream must wait (sent,
   * or denied at once); false to let it through (fail open). G4: a check that cannot be sent is
   * decided now, never left paused.
   */
  private sendCheck(): bool {
    this.checkSent = true;
    const client = this.client!;
    const counters = this.counters!;
    let status: Status;
    if (this.config!.usage.reserve) {
      this.reserving = this.usage!.reservation();
      status = client.send(scriptCommand(client, RESERVE, counters, 1).int(this.reserving), new ReserveReply(this));
    } else {
      status = client.send(scriptCommand(client, CHECK, counters, 0), new CheckReply(this));
    }
    if (status != Status.Ok) return this.storeFailure("cannot dispatch the check");
    this.waitingForCheck = true;
    return true;
  }

  /** Adds `amount` to this stream's counter `name` (labels: route, upstream cluster, model, consumer). */
  count(name: string, model: string, amount: i64): void {
    this.metrics.count(name, model, amount);
  }

  /** A1: a metered body the plugin cannot read as the upstream would is answered 400, never forwarded. True when refused. */
  private refusedBody(): bool {
    const refusal = this.usage!.refusal;
    if (refusal === null || this.counters === null || this.rejected) return false;
    this.rejected = true;
    this.count(REQUEST_BODY_REFUSED_METRIC, "none", 1);
    refuseRequestBody(refusal, this.config!.openAiErrors);
    return true;
  }

  /** Redis could not answer: fail open (as Higress) unless failure_mode_deny. True when denied. */
  storeFailure(reason: string): bool {
    logWarn("ai-token-ratelimit: rate limit store unavailable: " + reason);
    this.count(STORE_FAILURE_METRIC, "none", 1);
    if (!this.config!.failureModeDeny) return false;
    this.answer(STORE_UNAVAILABLE);
    return true;
  }

  /**
   * The check's reply, `{threshold, current, ttl}` per counter as integers, read in place; false,
   * with nothing decided, for any other reply.
   */
  onCheck(reply: RespReader): bool {
    const count = this.counters!.limits.length;
    if (reply.array() != count) return false;
    this.forgetWindows();
    let retryAfter: i64 = -1;
    for (let i = 0; i < count; i++) {
      if (reply.array() != 3) return false;
      const threshold = reply.int();
      const current = reply.int();
      // Higress rejects only when strictly over: a counter at its threshold still passes.
      retryAfter = this.window(threshold, current, reply.int(), current > threshold, retryAfter);
    }
    if (!reply.complete) return false;
    this.waitingForCheck = false;
    // Already answered (the body was refused while the check was out).
    if (this.rejected) return true;
    if (retryAfter >= 0) this.reject(retryAfter);
    else this.resume();
    return true;
  }

  /**
   * The reservation's reply: `{taken, then {threshold, current, ttl s, ttl ms, fits} per counter}`,
   * read in place; false, with nothing decided, for any other reply. With `gone` (the stream ended
   * while it was out) or a request already answered, a reservation taken is given back at once.
   */
  onReserve(reply: RespReader, gone: bool = false): bool {
    const count = this.counters!.limits.length;
    if (reply.array() != count + 1) return false;
    const taken = reply.int();
    this.forgetWindows();
    const now = nowMillis();
    const ends = new Array<i64>(count);
    let retryAfter: i64 = -1;
    for (let i = 0; i < count; i++) {
      if (reply.array() != 5) return false;
      const threshold = reply.int();
      const current = reply.int();
      const ttl = reply.int();
      unchecked(ends[i] = now + reply.int());
      retryAfter = this.window(threshold, current, ttl, reply.int() == 0, retryAfter);
    }
    if (!reply.complete || (taken != 0 && taken != 1)) return false;
    this.waitingForCheck = false;
    this.windowEnds = ends;
    if (taken == 1) this.reserved = this.reserving;
    if (gone || this.rejected) {
      this.settle(0, "none");
      return true;
    }
    if (taken == 0) this.reject(max<i64>(retryAfter, 0));
    else this.resume();
    return true;
  }

  /** No usable answer to the check: fail open, or 503 with failure_mode_deny (R4). */
  onCheckFailed(reason: string): void {
    this.waitingForCheck = false;
    if (this.rejected) return;
    this.forgetWindows();
    if (!this.storeFailure(reason)) this.resume();
  }

  /** Before reading a check's windows (an in-place read given up half-way leaves none behind). */
  private forgetWindows(): void {
    this.remaining = -1;
    this.limit = -1;
    this.limitReset = 0;
  }

  /** One window of the check: keeps the tightest for the limit headers; returns the retry-after so far (`over`: this window refuses). */
  private window(threshold: i64, current: i64, ttl: i64, over: bool, retryAfter: i64): i64 {
    const left = threshold - current;
    if (this.remaining < 0 || left < this.remaining) {
      this.remaining = left < 0 ? 0 : left;
      this.limit = threshold;
      this.limitReset = ttl;
    }
    return over ? max(retryAfter, ttl) : retryAfter;
  }

  /** Answers `error` before any check (nothing is charged) and counts it in `metric`. */
  private refuse(error: RateLimitError, metric: string): HeaderAction {
    this.answer(error);
    this.count(metric, "none", 1);
    return HeaderAction.Continue;
  }

  /** A local reply of one of the plugin's errors; the stream is then neither forwarded nor charged. */
  private answer(error: RateLimitError): void {
    this.rejected = true;
    sendReply(error, this.config!.openAiErrors);
  }

  private reject(retryAfter: i64): void {
    const config = this.config!;
    this.rejected = true;
    const seconds = retryAfter.toString();
    const headers = [new Header(RESET_HEADER, seconds), new Header(RETRY_AFTER_HEADER, seconds)];
    // As Higress: the rejection is recorded in ai_log for the access log, then answered.
    aiLog().string(STATUS_KEY, LIMITED_STATUS).write("ai-token-ratelimit");
    sendReply(RATE_LIMITED, config.openAiErrors, headers, config.rejectedCode, config.rejectedMsg);
    this.count(RATE_LIMITED_METRIC, "none", 1);
  }

  private resume(): void {
    // With a JSON body still arriving, its last chunk resumes the request after include_usage is added.
    if (this.usage !== null && this.usage!.waitingForBody) return;
    continueRequest();
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    const usage = this.usage;
    if (usage === null) return DataAction.Continue;
    const sizing = this.sizedByBody;
    const action = usage.onRequestBody(bodySize, endOfStream, this.waitingForCheck || this.rejected || sizing);
    this.refusedBody();
    if (sizing && !this.rejected && !usage.waitingForBody && !this.sendCheck()) {
      // Let through without a check (fail open): the chunk held goes on after all.
      usage.releaseHeld(bodySize);
      return DataAction.Continue;
    }
    // Until the check answers, Continue would let the request through: keep buffering instead.
    if (this.waitingForCheck || this.rejected || this.sizedByBody) return DataAction.StopIterationAndBuffer;
    return action;
  }

  onRequestTrailers(trailerCount: u32): TrailersAction {
    if (this.usage !== null) {
      this.usage!.onRequestTrailers();
      this.refusedBody();
      if (this.sizedByBody && !this.rejected && !this.sendCheck()) return TrailersAction.Continue;
    }
    // Continue would send the request on: not before the check has let it through.
    return this.waitingForCheck || this.rejected ? TrailersAction.StopIteration : TrailersAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    if (this.usage === null || this.rejected) return HeaderAction.Continue;
    this.usage!.onResponseHeaders();
    // Read now: a stream that ends without its response's end is charged from onDelete.
    this.metrics.readLabels();
    if (this.config!.showLimitQuotaHeader && this.limit >= 0) {
      setResponseHeader(LIMIT_HEADER, this.limit.toString());
      setResponseHeader(REMAINING_HEADER, this.remaining.toString());
      // IETF draft-ietf-httpapi-ratelimit-headers: every window as a policy, the tightest as the current limit.
      const name = '"' + this.config!.ruleName + '"';
      let policy = "";
      const limits = this.counters!.limits;
      for (let i = 0; i < limits.length; i++) {
        policy += (i > 0 ? ", " : "") + name + ";q=" + limits[i].threshold.toString() + ";w=" + limits[i].windowSeconds.toString();
      }
      setResponseHeader(POLICY_HEADER, policy);
      setResponseHeader(RATELIMIT_HEADER, name + ";r=" + this.remaining.toString() + ";t=" + this.limitReset.toString());
    }
    return HeaderAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    const usage = this.usage;
    if (usage === null || this.rejected) return DataAction.Continue;
    usage.onResponseBody(bodySize, endOfStream);
    if (endOfStream) this.charge();
    return DataAction.Continue;
  }

  /** A stream that ended before its response did (client hang-up, upstream reset) is charged now (A4). */
  onDelete(): void {
    // The stream's filter state is gone: the charge is counted, not logged.
    this.live = false;
    // A reservation still out is settled by its reply (ReserveReply.onStreamGone).
    if (this.usage !== null && !this.rejected && !this.waitingForCheck) this.charge();
  }

  /** Charges input + output once (R1): at the end of the response, or of the stream; an estimate when none was reported (A4). */
  private charge(): void {
    const stream = this.usage!;
    const usage = stream.settle();
    if (usage !== null) this.record(usage, stream.modelOf(usage));
    if (this.reserved >= 0) {
      const used = settledTokens(usage, stream.succeeded, this.reserved);
      // A reservation kept for want of usage is an estimate, counted as one.
      if (usage === null && used > 0) this.count(ESTIMATED_TOKEN_METRIC, stream.modelOf(null), used);
      this.settle(used, stream.modelOf(usage));
      return;
    }
    if (usage === null) return;
    const model = stream.modelOf(usage);
    const amount = usage.charge();
    const counters = this.counters;
    if (counters === null) return;
    if (amount <= 0) return;
    const client = this.client!;
    const status = client.send(scriptCommand(client, CHARGE, counters, 1).int(amount), new ChargeReply(this));
    if (status != Status.Ok) {
      logWarn("ai-token-ratelimit: charge could not be sent: status " + status.toString());
      this.count(CHARGE_FAILURE_METRIC, model, 1);
    } else if (logEnabled(LogLevel.Debug)) {
      logDebug("ai-token-ratelimit: charged " + amount.toString() + " tokens");
    }
  }

  /** The usage in this stream's metrics and, while the stream lives, its ai_log. */
  private record(usage: TokenUsage, model: string): void {
    const amount = usage.charge();
    if (usage.estimated) {
      if (amount > 0) this.count(ESTIMATED_TOKEN_METRIC, model, amount);
    } else {
      if (usage.inputTokens > 0) this.count(INPUT_TOKEN_METRIC, model, usage.inputTokens);
      if (usage.outputTokens > 0) this.count(OUTPUT_TOKEN_METRIC, model, usage.outputTokens);
    }
    if (!this.live) return;
    const log = aiLog().int(INPUT_TOKEN_KEY, usage.inputTokens).int(OUTPUT_TOKEN_KEY, usage.outputTokens);
    if (usage.estimated) log.bool(ESTIMATED_KEY, true);
    log.write("ai-token-ratelimit");
  }

  /**
   * Settles the reservation to `used` tokens, once (issue 19): one EVAL of settle.lua with the
   * difference and, per counter, what its reservation's window had left by the gateway's clock;
   * settle.lua tells from the key's PTTL whether the counter is still that window. None when
   * nothing would change.
   */
  settle(used: i64, model: string): void {
    const reserved = this.reserved;
    this.reserved = -1;
    const ends = this.windowEnds;
    if (reserved < 0 || ends === null) return;
    const diff = used - reserved;
    const limits = this.counters!.limits;
    const now = nowMillis();
    let open = false;
    for (let i = 0; i < limits.length; i++) if (unchecked(ends[i]) > now) open = true;
    // Given back to windows that have all ended: nothing left to give.
    if (diff == 0 || (diff < 0 && !open)) return;
    const client = this.client!;
    const command = scriptCommand(client, SETTLE, this.counters!, 1 + limits.length).int(diff);
    for (let i = 0; i < limits.length; i++) command.int(unchecked(ends[i]) - now);
    if (client.send(command, new ChargeReply(this)) != Status.Ok) {
      logWarn("ai-token-ratelimit: settle could not be sent");
      this.count(CHARGE_FAILURE_METRIC, model, 1);
    }
  }
}
