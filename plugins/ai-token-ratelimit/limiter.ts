/** One stream through the limiter: check before forwarding, charge at the end of the response. */
import {
  HttpContext, RootContext, HeaderAction, DataAction, Status, Header, sendLocalResponse, continueRequest,
  getRequestHeader, getPropertyString, getResponseBody, setResponseHeader, counter, incrementMetric,
  logWarn, logDebug, logEnabled, LogLevel,
} from "../../shared/index";
import { RedisClient, RedisReply, RedisScript, RespValue, RespKind } from "../../shared/redis/index";
import { StreamUsage } from "../../shared/usage/stream-usage";
import { RateLimitConfig } from "./config";
import { Counter, chooseCounters } from "./counters";
import { CHECK_SCRIPT, CHARGE_SCRIPT } from "./scripts";
import {
  RESET_HEADER, RETRY_AFTER_HEADER, LIMIT_HEADER, REMAINING_HEADER, POLICY_HEADER, RATELIMIT_HEADER, RATE_LIMITED, STORE_UNAVAILABLE,
} from "./errors";

const ROUTE_NAME = ["route_name"];
const CHECK = new RedisScript(CHECK_SCRIPT);
const CHARGE = new RedisScript(CHARGE_SCRIPT);
const CLUSTER_NAME = ["cluster_name"];

/** Metric names share Higress's shape; ours end in token_ratelimit_* so ai-statistics never collides (A3). */
function metricName(stream: LimitedStream, model: string, name: string): string {
  return "route." + stream.route + ".upstream." + stream.cluster + ".model." + model + ".consumer." + stream.consumer + ".metric." + name;
}

/** KEYS of both scripts: one per counter. */
function counterKeys(counters: Array<Counter>): Array<string> {
  const keys = new Array<string>();
  for (let i = 0; i < counters.length; i++) keys.push(counters[i].key);
  return keys;
}

/** ARGV of both scripts: threshold and window per counter (the charge appends the amount). */
function counterArgs(counters: Array<Counter>): Array<string> {
  const args = new Array<string>();
  for (let i = 0; i < counters.length; i++) {
    args.push(counters[i].threshold.toString());
    args.push(counters[i].windowSeconds.toString());
  }
  return args;
}

class CheckReply extends RedisReply {
  constructor(private stream: LimitedStream) {
    super();
  }
  onReply(reply: RespValue): void {
    this.stream.onCheck(reply);
  }
}

class ChargeReply extends RedisReply {
  constructor(private stream: LimitedStream) {
    super();
  }
  onReply(reply: RespValue): void {
    if (reply.isError) {
      logWarn("ai-token-ratelimit: charge failed: " + reply.text);
      incrementMetric(counter(metricName(this.stream, "none", "token_ratelimit_charge_failure")), 1);
    }
  }
}

export class LimitedStream extends HttpContext {
  config: RateLimitConfig | null = null;
  client: RedisClient | null = null;
  counters: Array<Counter> = [];
  usage: StreamUsage | null = null;
  waitingForCheck: bool = false;
  rejected: bool = false;
  charged: bool = false;
  /** The tightest window after the check: what is left, its threshold and seconds to reset. */
  remaining: i64 = -1;
  limit: i64 = -1;
  limitReset: i64 = 0;
  route: string = "-";
  cluster: string = "-";
  consumer: string = "none";

  constructor(id: u32, root: RootContext) {
    super(id, root);
  }

  /** Called by index.ts with the selected config; returns the headers action. */
  begin(config: RateLimitConfig, client: RedisClient, endOfStream: bool): HeaderAction {
    this.config = config;
    this.client = client;
    const route = getPropertyString(ROUTE_NAME);
    if (route !== null) this.route = route;
    const cluster = getPropertyString(CLUSTER_NAME);
    if (cluster !== null) this.cluster = cluster;
    const consumer = getRequestHeader("x-mse-consumer");
    if (consumer !== null) this.consumer = consumer;
    const usage = new StreamUsage(config.injectStreamUsage);
    this.usage = usage;
    const usageAction = usage.onRequestHeaders(endOfStream);
    this.counters = chooseCounters(config);
    if (this.counters.length == 0) return usageAction;
    if (client.eval(CHECK, counterKeys(this.counters), counterArgs(this.counters), new CheckReply(this)) != Status.Ok) {
      // G4: a check that cannot be sent is decided now, never left paused.
      return this.storeFailure("cannot dispatch the check") ? HeaderAction.Continue : usageAction;
    }
    this.waitingForCheck = true;
    return HeaderAction.StopIteration;
  }

  /** Redis could not answer: fail open (as Higress) unless failure_mode_deny. True when denied. */
  storeFailure(reason: string): bool {
    logWarn("ai-token-ratelimit: rate limit store unavailable: " + reason);
    incrementMetric(counter(metricName(this, "none", "token_ratelimit_store_failure")), 1);
    if (!this.config!.failureModeDeny) return false;
    this.rejected = true;
    sendLocalResponse(STORE_UNAVAILABLE.status, STORE_UNAVAILABLE.details, String.UTF8.encode(STORE_UNAVAILABLE.body), null);
    return true;
  }

  onCheck(reply: RespValue): void {
    this.waitingForCheck = false;
    if (reply.kind != RespKind.Array || reply.items.length != this.counters.length) {
      if (!this.storeFailure(reply.isError ? reply.text : "unexpected reply")) this.resume();
      return;
    }
    let retryAfter: i64 = -1;
    for (let i = 0; i < reply.items.length; i++) {
      const window = reply.items[i];
      if (window.kind != RespKind.Array || window.items.length != 3) continue;
      const threshold = window.items[0].toInteger();
      const current = window.items[1].toInteger();
      const ttl = window.items[2].toInteger();
      // Higress rejects only when strictly over: a counter at its threshold still passes.
      if (current > threshold) retryAfter = max(retryAfter, ttl);
      const left = threshold - current;
      if (this.remaining < 0 || left < this.remaining) {
        this.remaining = left < 0 ? 0 : left;
        this.limit = threshold;
        this.limitReset = ttl;
      }
    }
    if (retryAfter >= 0) {
      this.reject(retryAfter);
      return;
    }
    this.resume();
  }

  private reject(retryAfter: i64): void {
    const config = this.config!;
    this.rejected = true;
    const seconds = retryAfter.toString();
    const headers = [new Header(RESET_HEADER, seconds), new Header(RETRY_AFTER_HEADER, seconds)];
    sendLocalResponse(config.rejectedCode, RATE_LIMITED.details, String.UTF8.encode(config.rejectedMsg), headers);
    incrementMetric(counter(metricName(this, "none", "token_ratelimit_count")), 1);
  }

  private resume(): void {
    // With a JSON body still arriving, its last chunk resumes the request after include_usage is added.
    if (this.usage !== null && this.usage!.waitingForBody) return;
    continueRequest();
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    const usage = this.usage;
    if (usage === null) return DataAction.Continue;
    const action = usage.onRequestBody(bodySize, endOfStream);
    // Until the check answers, Continue would let the request through: keep buffering instead.
    if (this.waitingForCheck || this.rejected) return DataAction.StopIterationAndBuffer;
    return action;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    if (this.usage === null || this.rejected) return HeaderAction.Continue;
    this.usage!.onResponseHeaders();
    if (this.config!.showLimitQuotaHeader && this.limit >= 0) {
      setResponseHeader(LIMIT_HEADER, this.limit.toString());
      setResponseHeader(REMAINING_HEADER, this.remaining.toString());
      // IETF draft-ietf-httpapi-ratelimit-headers: every window as a policy, the tightest as the current limit.
      const name = '"' + this.config!.ruleName + '"';
      let policy = "";
      for (let i = 0; i < this.counters.length; i++) {
        const counter = this.counters[i];
        policy += (i > 0 ? ", " : "") + name + ";q=" + counter.threshold.toString() + ";w=" + counter.windowSeconds.toString();
      }
      setResponseHeader(POLICY_HEADER, policy);
      setResponseHeader(RATELIMIT_HEADER, name + ";r=" + this.remaining.toString() + ";t=" + this.limitReset.toString());
    }
    return HeaderAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    const usage = this.usage;
    if (usage === null || this.rejected) return DataAction.Continue;
    usage.onResponseBody(bodySize > 0 ? getResponseBody(0, bodySize) : null, endOfStream);
    if (endOfStream) this.charge();
    return DataAction.Continue;
  }

  /** Charges input + output once, at the end of the response (R1); nothing when no usage was reported. */
  private charge(): void {
    const usage = this.usage!.usage;
    if (usage === null || this.charged) return;
    this.charged = true;
    const model = usage.model.length > 0 ? usage.model : this.usage!.requestModel.length > 0 ? this.usage!.requestModel : "unknown";
    if (usage.inputTokens > 0) incrementMetric(counter(metricName(this, model, "token_ratelimit_input_token")), usage.inputTokens);
    if (usage.outputTokens > 0) incrementMetric(counter(metricName(this, model, "token_ratelimit_output_token")), usage.outputTokens);
    if (this.counters.length == 0) return;
    const amount = usage.charge();
    if (amount <= 0) return;
    const args = counterArgs(this.counters);
    args.push(amount.toString());
    const status = this.client!.eval(CHARGE, counterKeys(this.counters), args, new ChargeReply(this));
    if (status != Status.Ok) {
      logWarn("ai-token-ratelimit: charge could not be sent: status " + status.toString());
      incrementMetric(counter(metricName(this, model, "token_ratelimit_charge_failure")), 1);
    } else if (logEnabled(LogLevel.Debug)) {
      logDebug("ai-token-ratelimit: charged " + amount.toString() + " tokens");
    }
  }
}
