/** One stream through ai-quota: the consumer, the admin API, or a quota check before and a charge after. */
import {
  HttpContext, RootContext, HeaderAction, DataAction, TrailersAction, Status, RedisStatus, RedisCallback, continueRequest, getRequestHeader,
  getRequestBody, requestBodySize, StreamCounters, logWarn,
} from "../../shared/index";
import { RedisClient, RespReader, replyFailure, integerReplyFailure } from "../../shared/redis/index";
import { StreamUsage } from "../../shared/usage/stream-usage";
import { consumerOf } from "../../shared/identity/consumer";
import { refuseRequestBody } from "../../shared/usage/refusal";
import { sendReply } from "../../shared/reply/local-reply";
import { AiLog } from "../../shared/usage/ai-log";
import { TokenUsage } from "../../shared/tokens/index";
import { QuotaConfig } from "./config";
import { Mode, modeOf } from "./mode";
import { reply, queryQuota, writeQuota } from "./admin";
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

  constructor(id: u32, root: RootContext) {
    super(id, root);
  }

  count(name: string, model: string, amount: i64 = 1): void {
    this.metrics.count(name, model, amount);
  }

  /** Writes the decision not yet written, with `usage` when one was charged, to ai_log. */
  private logDecision(usage: TokenUsage | null): void {
    if (!this.live || (this.decision.length == 0 && usage === null)) return;
    const log = new AiLog();
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
    if (client.get(config.keyOf(consumer), new CheckAnswer(this)) != Status.Ok) {
      // G4: decided now, never left waiting.
      // Let through (failure_mode_deny false), the headers still wait for a JSON body to be whole.
      return this.storeFailure("cannot dispatch the check") ? HeaderAction.StopIteration : usageAction;
    }
    this.waitingForCheck = true;
    return HeaderAction.StopIteration;
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
      this.denied = true;
      this.count(NO_QUOTA_METRIC, "none");
      this.decision = QUOTA_REJECTED;
      this.logDecision(null);
      this.send(NO_QUOTA);
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
    const action = usage.onRequestBody(bodySize, endOfStream, this.waitingForCheck || this.denied);
    this.refusedBody();
    if (this.waitingForCheck || this.denied) return DataAction.StopIterationAndBuffer;
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
    if (this.usage !== null && !this.denied) this.charge();
  }

  /** Q5: input + output with one DECRBY, once: at the end of the response, or of the stream. */
  private charge(): void {
    const usage = this.usage!.settle();
    this.logDecision(usage);
    if (usage === null) return;
    const amount = usage.charge();
    const model = this.usage!.modelOf(usage);
    if (usage.estimated) {
      if (amount > 0) this.count(ESTIMATED_TOKEN_METRIC, model, amount);
    } else {
      if (usage.inputTokens > 0) this.count(INPUT_TOKEN_METRIC, model, usage.inputTokens);
      if (usage.outputTokens > 0) this.count(OUTPUT_TOKEN_METRIC, model, usage.outputTokens);
    }
    if (amount <= 0) return;
    const status = this.client!.decrBy(this.config!.keyOf(this.consumer), amount, new ChargeAnswer(this));
    if (status != Status.Ok) {
      logWarn("ai-quota: charge could not be sent: status " + status.toString());
      this.count(CHARGE_FAILURE_METRIC, model);
    }
  }
}
