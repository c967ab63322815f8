/** One stream through ai-quota: the consumer, the admin API, or a quota check before and a charge after. */
import {
  HttpContext, RootContext, HeaderAction, DataAction, TrailersAction, Status, RedisStatus, RedisCallback, continueRequest, getRequestHeader,
  getRequestBody, requestBodySize, StreamCounters, logWarn,
} from "../../shared/index";
import { RedisClient, RespReader, replyFailure, integerReplyFailure } from "../../shared/redis/index";
import { settledTokens } from "../../shared/usage/reservation";
import { StreamUsage } from "../../shared/usage/stream-usage";
import { consumerOf } from "../../shared/identity/consumer";
import { refuseRequestBody } from "../../shared/usage/refusal";
import { sendReply } from "../../shared/reply/local-reply";
import { aiLog } from "../../shared/usage/ai-log";
import { TokenUsage } from "../../shared/tokens/index";
import { QuotaConfig } from "./config";
import { Mode, modeOf } from "./mode";
import { queryQuota, writeQuota } from "./admin";
import { RESERVE } from "./scripts";
import { QuotaReply, NO_CONSUMER, EMPTY_CONSUMER, NO_QUOTA, NOT_ADMIN, STORE_UNAVAILABLE } from "./errors";
import {
  INPUT_TOKEN_METRIC, OUTPUT_TOKEN_METRIC, ESTIMATED_TOKEN_METRIC, NO_QUOTA_METRIC, REQUEST_BODY_REFUSED_METRIC, STORE_FAILURE_METRIC, CHARGE_FAILURE_METRIC,
} from "./metrics";
import { STATUS_KEY, QUOTA_ALLOWED, QUOTA_REJECTED, QUOTA_UNAVAILABLE, INPUT_TOKEN_KEY, OUTPUT_TOKEN_KEY, ESTIMATED_KEY } from "./ai-log-keys";

// The check (GET) and the charge (DECRBY) replies are read in place: a bulk string, an integer.
class CheckAnswer extends RedisCallback {
  constructor(private stream: QuotaStream) {
    super();
  }
  onRedisReply(status: RedisStatus, reply: usize, size: u32): void {
    this.stream.onCheck(status, reply, size);
  }
}

/** The reservation's reply, `{1, quota left}` or `{0, quota}`; its stream may have ended meanwhile. */
class ReserveAnswer extends RedisCallback {
  constructor(private stream: QuotaStream) {
    super();
  }
  onRedisReply(status: RedisStatus, reply: usize, size: u32): void {
    this.stream.onReserve(status, reply, size);
  }
  /** The stream ended (client gone) while the reservation was out: nothing was served, so all of it is given back. */
  onStreamGone(status: RedisStatus, reply: usize, size: u32): bool {
    if (status == RedisStatus.Ok && reply != 0 && readReservation(reply, size) == 1) this.stream.settleReservation(0, "none");
    return true;
  }
}

/** 1 when the reservation was taken, 0 when it did not fit, -1 for any other reply; `reservationLeft` is the quota after it. */
function readReservation(reply: usize, size: u32): i32 {
  const reader = RespReader.at(reply, size);
  if (reader.array() != 2) return -1;
  const taken = reader.int();
  reservationLeft = reader.int();
  if (!reader.complete || (taken != 0 && taken != 1)) return -1;
  return <i32>taken;
}
let reservationLeft: i64 = 0;

/** Runs after the stream has ended, on the root context: only logs and counts. */
class ChargeAnswer extends RedisCallback {
  constructor(private stream: QuotaStream) {
    super();
    this.outlivesStream = true;
  }
  onRedisReply(status: RedisStatus, reply: usize, size: u32): void {
    const failure = integerReplyFailure(status, reply, size);
    if (failure === null) return;
    logWarn("ai-quota: charge failed: " + failure);
    this.stream.count(CHARGE_FAILURE_METRIC, "none");
  }
}

export class QuotaStream extends HttpContext {
  config: QuotaConfig | null = null;
  client: RedisClient | null = null;
  mode: Mode = Mode.Chat;
  consumer: string = "";
  metrics: StreamCounters = new StreamCounters();
  /** The check's decision not yet written to ai_log (written with the charge); "" when none. */
  decision: string = "";
  /** False in onDelete, when the stream's filter state (ai_log) can no longer be written. */
  live: bool = true;
  usage: StreamUsage | null = null;
  waitingForCheck: bool = false;
  denied: bool = false;
  /** With reserve_tokens: the check goes out once the body is read, and takes `reserved` (-1 until taken). */
  checkSent: bool = false;
  reserved: i64 = -1;

  constructor(id: u32, root: RootContext) {
    super(id, root);
  }

  count(name: string, model: string, amount: i64 = 1): void {
    this.metrics.count(name, model, amount);
  }

  /** Writes the decision not yet written, with `usage` when one was charged, to ai_log. */
  private logDecision(usage: TokenUsage | null): void {
    if (!this.live || (this.decision.length == 0 && usage === null)) return;
    const log = aiLog();
    if (this.decision.length > 0) log.string(STATUS_KEY, this.decision);
    this.decision = "";
    if (usage !== null) {
      log.int(INPUT_TOKEN_KEY, usage.inputTokens).int(OUTPUT_TOKEN_KEY, usage.outputTokens);
      if (usage.estimated) log.bool(ESTIMATED_KEY, true);
    }
    log.write("ai-quota");
  }

  begin(config: QuotaConfig, client: RedisClient, endOfStream: bool): HeaderAction {
    this.config = config;
    this.client = client;
    // The mode first: it decides the shape of every reply, the consumer's refusals included.
    const path = getRequestHeader(":path");
    this.mode = path === null ? Mode.Chat : modeOf(path, config);
    const consumer = consumerOf(config.authenticatedConsumerOnly);
    if (consumer === null) return this.deny(NO_CONSUMER);
    if (consumer.length == 0) return this.deny(EMPTY_CONSUMER);
    this.consumer = consumer;
    this.metrics.consumer = consumer;
    if (this.mode != Mode.Chat) {
      if (consumer != config.adminConsumer) return this.deny(NOT_ADMIN);
      if (this.mode == Mode.AdminQuery) {
        queryQuota(config, client);
        return HeaderAction.StopIteration;
      }
      // Q4: a refresh or delta without a body is an empty form, answered now; else the body answers.
      if (endOfStream) writeQuota(config, client, "", this.mode == Mode.AdminRefresh);
      return HeaderAction.StopIteration;
    }
    const usage = new StreamUsage(config.usage);
    this.usage = usage;
    const usageAction = usage.onRequestHeaders(endOfStream);
    if (this.refusedBody()) return HeaderAction.StopIteration;
    // A reservation is sized by the body: it goes out once the body is read (now, when there is none).
    if (this.sizedByBody && usage.waitingForBody) return HeaderAction.StopIteration;
    // Let through (failure_mode_deny false): the headers still wait for a JSON body to be whole.
    return this.sendCheck() ? HeaderAction.StopIteration : usageAction;
  }

  /** With reserve_tokens, until the check is sent: the request waits for its body to be read. */
  private get sizedByBody(): bool {
    return this.config!.usage.reserve && !this.checkSent;
  }

  /**
   * The check: a GET, or with reserve_tokens the EVAL that reserves. True when the stream must
   * wait (sent, or denied at once); false to let it through (failure_mode_deny false). G4: a check
   * that cannot be sent is decided now, never left waiting.
   */
  private sendCheck(): bool {
    this.checkSent = true;
    const config = this.config!;
    const client = this.client!;
    const key = config.keyOf(this.consumer);
    let status: Status;
    if (config.usage.reserve) {
      const amount = this.usage!.reservation();
      status = client.send(client.evalCommand(RESERVE, 1, 2).arg(key).int(amount), new ReserveAnswer(this));
      if (status == Status.Ok) this.reserved = amount;
    } else {
      status = client.get(key, new CheckAnswer(this));
    }
    if (status != Status.Ok) return this.storeFailure("cannot dispatch the check");
    this.waitingForCheck = true;
    return true;
  }

  private deny(answer: QuotaReply): HeaderAction {
    this.denied = true;
    this.send(answer);
    return HeaderAction.StopIteration;
  }

  /** A reply to this stream: OpenAI error JSON with openai_errors, except on the admin API's paths. */
  private send(answer: QuotaReply): void {
    sendReply(answer, this.config!.openAiErrors && this.mode == Mode.Chat);
  }

  /** Q3: 503 naming the quota store, or let the request through with failure_mode_deny false. True when denied. */
  private storeFailure(reason: string): bool {
    logWarn("ai-quota: quota store unavailable: " + reason);
    this.count(STORE_FAILURE_METRIC, "none");
    this.decision = QUOTA_UNAVAILABLE;
    if (!this.config!.failureModeDeny) return false;
    this.logDecision(null);
    this.denied = true;
    this.send(STORE_UNAVAILABLE);
    return true;
  }

  /** A1: a body the plugin cannot read as the upstream would is answered 400, never forwarded. True when refused. */
  private refusedBody(): bool {
    const refusal = this.usage!.refusal;
    if (refusal === null || this.denied) return false;
    this.denied = true;
    this.count(REQUEST_BODY_REFUSED_METRIC, "none");
    refuseRequestBody(refusal, this.config!.openAiErrors);
    return true;
  }

  onCheck(status: RedisStatus, bytes: usize, size: u32): void {
    this.waitingForCheck = false;
    // Already answered (the body was refused while the check was out).
    if (this.denied) return;
    const reader = status == RedisStatus.Ok && bytes != 0 ? RespReader.at(bytes, size) : null;
    const quota = reader !== null ? reader.bulkInt() : 0;
    if (reader === null || !reader.complete) {
      if (!this.storeFailure(replyFailure(status, bytes, size))) this.resume();
      return;
    }
    // Higress's integer-of: absent, not a number, or at most 0 is no quota.
    if (quota <= 0) {
      this.noQuota();
      return;
    }
    this.decision = QUOTA_ALLOWED;
    this.resume();
  }

  private noQuota(): void {
    this.denied = true;
    this.count(NO_QUOTA_METRIC, "none");
    this.decision = QUOTA_REJECTED;
    this.logDecision(null);
    this.send(NO_QUOTA);
  }

  /** The reservation's reply: taken (the request goes on), did not fit (403), or a store failure. */
  onReserve(status: RedisStatus, bytes: usize, size: u32): void {
    this.waitingForCheck = false;
    const taken = status == RedisStatus.Ok && bytes != 0 ? readReservation(bytes, size) : -1;
    if (taken != 1) this.reserved = -1;
    // Already answered (the body was refused while the check was out): nothing is served.
    if (this.denied) {
      if (taken == 1) this.settleReservation(0, "none");
      return;
    }
    if (taken < 0) {
      if (!this.storeFailure(replyFailure(status, bytes, size))) this.resume();
      return;
    }
    if (taken == 0) {
      this.noQuota();
      return;
    }
    this.decision = QUOTA_ALLOWED;
    this.resume();
  }

  private resume(): void {
    if (this.usage !== null && this.usage!.waitingForBody) return;
    continueRequest();
  }

  private get writesQuota(): bool {
    return this.mode == Mode.AdminRefresh || this.mode == Mode.AdminDelta;
  }

  /** An admin request is answered here and never forwarded, whatever body or trailers it has. */
  private get isAdmin(): bool {
    return this.mode == Mode.AdminQuery || this.writesQuota;
  }

  /** The admin form, whole at last: answered from Redis, never forwarded. */
  private answerAdmin(bodySize: u32): void {
    const body = getRequestBody(0, bodySize);
    writeQuota(this.config!, this.client!, body === null ? "" : String.UTF8.decode(body), this.mode == Mode.AdminRefresh);
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    if (this.isAdmin) {
      if (this.writesQuota && !this.denied && endOfStream) this.answerAdmin(bodySize);
      return DataAction.StopIterationAndBuffer;
    }
    const usage = this.usage;
    if (usage === null) return DataAction.Continue;
    const sizing = this.sizedByBody;
    const action = usage.onRequestBody(bodySize, endOfStream, this.waitingForCheck || this.denied || sizing);
    this.refusedBody();
    if (sizing && !this.denied && !usage.waitingForBody && !this.sendCheck()) {
      // Let through without a check (failure_mode_deny false): the chunk held goes on after all.
      usage.releaseHeld(bodySize);
      return DataAction.Continue;
    }
    if (this.waitingForCheck || this.denied || this.sizedByBody) return DataAction.StopIterationAndBuffer;
    return action;
  }

  /** Trailers end a request whose last body chunk did not. */
  onRequestTrailers(trailerCount: u32): TrailersAction {
    if (this.isAdmin) {
      if (this.writesQuota && !this.denied) this.answerAdmin(requestBodySize());
      return TrailersAction.StopIteration;
    }
    if (this.usage !== null) {
      this.usage!.onRequestTrailers();
      this.refusedBody();
      if (this.sizedByBody && !this.denied && !this.sendCheck()) return TrailersAction.Continue;
    }
    // Continue would send the request on: not before the check has let it through.
    return this.waitingForCheck || this.denied ? TrailersAction.StopIteration : TrailersAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    if (this.usage !== null && !this.denied) {
      this.usage!.onResponseHeaders();
      // Read now: a stream that ends without its response's end is charged from onDelete.
      this.metrics.readLabels();
    }
    return HeaderAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    const usage = this.usage;
    if (usage === null || this.denied) return DataAction.Continue;
    usage.onResponseBody(bodySize, endOfStream);
    if (endOfStream) this.charge();
    return DataAction.Continue;
  }

  /** A stream that ended before its response did (client hang-up, upstream reset) is charged now (A4). */
  onDelete(): void {
    // The stream's filter state is gone: the charge is counted, not logged.
    this.live = false;
    // A reservation still out is settled by its reply (ReserveAnswer.onStreamGone).
    if (this.usage !== null && !this.denied && !this.waitingForCheck) this.charge();
  }

  /**
   * Q5: input + output with one DECRBY, once: at the end of the response, or of the stream. With
   * a reservation, the DECRBY takes the difference from what was reserved (negative gives back).
   */
  private charge(): void {
    const stream = this.usage!;
    const usage = stream.settle();
    this.logDecision(usage);
    if (usage !== null) this.countUsage(usage, stream.modelOf(usage));
    if (this.reserved >= 0) {
      const used = settledTokens(usage, stream.succeeded, this.reserved);
      // A reservation kept for want of usage is an estimate, counted as one.
      if (usage === null && used > 0) this.count(ESTIMATED_TOKEN_METRIC, stream.modelOf(null), used);
      this.settleReservation(used, stream.modelOf(usage));
      return;
    }
    if (usage === null) return;
    this.decrement(usage.charge(), stream.modelOf(usage));
  }

  private countUsage(usage: TokenUsage, model: string): void {
    if (usage.estimated) {
      const amount = usage.charge();
      if (amount > 0) this.count(ESTIMATED_TOKEN_METRIC, model, amount);
    } else {
      if (usage.inputTokens > 0) this.count(INPUT_TOKEN_METRIC, model, usage.inputTokens);
      if (usage.outputTokens > 0) this.count(OUTPUT_TOKEN_METRIC, model, usage.outputTokens);
    }
  }

  /** Settles the reservation to `used` tokens, once (issue 19): one DECRBY of the difference, none when it is 0. */
  settleReservation(used: i64, model: string): void {
    const reserved = this.reserved;
    this.reserved = -1;
    if (reserved < 0) return;
    this.decrement(used - reserved, model);
  }

  /** One DECRBY of `amount` (negative gives tokens back); a failure is logged and counted, never retried. */
  private decrement(amount: i64, model: string): void {
    if (amount == 0) return;
    const status = this.client!.decrBy(this.config!.keyOf(this.consumer), amount, new ChargeAnswer(this));
    if (status != Status.Ok) {
      logWarn("ai-quota: charge could not be sent: status " + status.toString());
      this.count(CHARGE_FAILURE_METRIC, model);
    }
  }
}
