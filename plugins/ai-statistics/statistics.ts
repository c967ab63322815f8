/**
 * One stream through ai-statistics: it only observes. The request is timed from its headers, its
 * body read for the chat round and the request attributes (and given include_usage as the other AI
 * plugins do, never refused: a body they would refuse goes on unchanged); the answer is timed to
 * its first and last byte and read for its usage, chat id and attributes. When the answer ends,
 * one ai_log write and Higress's counters (README, "Metrics and access log").
 */
import {
  HttpContext, RootContext, HeaderAction, DataAction, TrailersAction, BodyReader, StreamCounters, getRequestHeader, getResponseHeader, nowNanos,
} from "../../shared/index";
import { StreamUsage } from "../../shared/usage/stream-usage";
import { AiLog } from "../../shared/usage/ai-log";
import { consumerOf } from "../../shared/identity/consumer";
import { skipSpace } from "../../shared/tokens/json-bytes";
import { utf8MarkLength } from "../../shared/tokens/request-start";
import { TokenUsage } from "../../shared/tokens/index";
import { USAGE_CAP } from "../../shared/tokens/usage";
import { StatisticsConfig, Attribute, PLUGIN_NAME, DEFAULT_SESSION_HEADERS } from "./config";
import { FoundValue, VALUE_NONE, VALUE_STRING, VALUE_JSON } from "./json-path";
import { headerValue, bodyValue, truncated, StreamedValues } from "./attributes";
import { ByteCopy, SseEvents } from "./body-copy";
import { chatRound } from "./chat-round";
import { geminiModel, apiName, pathEnabled, contentTypeEnabled } from "./request-facts";
import {
  INPUT_TOKEN_METRIC, OUTPUT_TOKEN_METRIC, TOTAL_TOKEN_METRIC, SERVICE_DURATION_METRIC, DURATION_COUNT_METRIC, FIRST_TOKEN_DURATION_METRIC,
  STREAM_DURATION_COUNT_METRIC,
} from "./metrics";
import {
  MODEL_KEY, INPUT_TOKEN_KEY, OUTPUT_TOKEN_KEY, TOTAL_TOKEN_KEY, FIRST_TOKEN_DURATION_KEY, SERVICE_DURATION_KEY, RESPONSE_TYPE_KEY, RESPONSE_STREAM,
  RESPONSE_NORMAL, CHAT_ID_KEY, CHAT_ROUND_KEY, API_KEY, SESSION_ID_KEY,
} from "./ai-log-keys";

/** The model label when nothing names one (Higress's). */
const UNKNOWN_MODEL = "unknown";
/** A token value the metrics cannot count: absent, or not a number. */
const NO_COUNT: i64 = -1;

/** Shows the whole request body to the stream whose callback is running (one at a time). */
class RequestBodyObserver extends BodyReader {
  target: StatisticsStream | null = null;
  read(ptr: usize, size: usize): void {
    this.target!.onRequestBodyBytes(ptr, <i32>size);
  }
}
/** Shows each response chunk to the stream whose callback is running. */
class ResponseBodyObserver extends BodyReader {
  target: StatisticsStream | null = null;
  read(ptr: usize, size: usize): void {
    this.target!.onResponseBodyBytes(ptr, size);
  }
}
const requestObserver = new RequestBodyObserver();
const responseObserver = new ResponseBodyObserver();
const found = new FoundValue();

function millisBetween(from: u64, to: u64): i64 {
  return to > from ? <i64>((to - from) / 1_000_000) : 0;
}

/** A token count written as JSON text, as the metrics count it: truncated, never negative; NO_COUNT when it is no number. */
function countOf(value: FoundValue): i64 {
  if (value.kind != VALUE_JSON) return NO_COUNT;
  const c = value.text.charCodeAt(0);
  if (!(c == 0x2d || (c >= 0x30 && c <= 0x39))) return NO_COUNT;
  const n = F64.parseFloat(value.text);
  if (isNaN(n)) return NO_COUNT;
  return n <= 0 ? 0 : n >= <f64>USAGE_CAP ? USAGE_CAP : <i64>n;
}

export class StatisticsStream extends HttpContext {
  /** Null when the plugin does nothing for this stream (no config, or a path not enabled). */
  config: StatisticsConfig | null = null;
  private usage: StreamUsage | null = null;
  private metrics: StreamCounters = new StreamCounters();
  private log: AiLog = new AiLog();
  private path: string = "";
  private started: u64 = 0;
  private firstByte: u64 = 0;
  private hadBody: bool = false;
  private bodyRead: bool = false;
  /** The answer's content type is one enable_content_types names. */
  private recording: bool = false;
  private finished: bool = false;
  private bodyCopy: ByteCopy | null = null;
  private events: SseEvents | null = null;
  private streamed: StreamedValues | null = null;
  // What the metrics count: the last model and token values written to ai_log (Higress counts its user attributes).
  private model: string | null = null;
  private input: i64 = NO_COUNT;
  private output: i64 = NO_COUNT;
  private total: i64 = NO_COUNT;

  constructor(id: u32, root: RootContext) {
    super(id, root);
  }

  begin(config: StatisticsConfig, endOfStream: bool): HeaderAction {
    const path = getRequestHeader(":path");
    this.path = path === null ? "" : path;
    if (!pathEnabled(this.path, config.pathSuffixes)) return HeaderAction.Continue;
    this.config = config;
    this.started = nowNanos();
    const consumer = consumerOf(config.authenticatedConsumerOnly);
    this.metrics.consumer = consumer === null || consumer.length == 0 ? "none" : consumer;
    this.metrics.readLabels();
    const api = apiName(this.metrics.route);
    if (api !== null) this.metrics.useRoute(api);
    this.log.string(API_KEY, api === null ? "-" : api);
    const session = this.sessionId(config);
    if (session !== null) this.log.string(SESSION_ID_KEY, session);
    for (let i = 0; i < config.requestAttributes.length; i++) {
      const attribute = unchecked(config.requestAttributes[i]);
      this.put(attribute.key, headerValue(attribute, found), attribute.defaultValue);
    }
    const usage = new StreamUsage(config.usage);
    this.usage = usage;
    usage.requestObserver = requestObserver;
    this.hadBody = !endOfStream;
    // Refusals are the charging plugins' to make: a body this reader cannot read goes on as it came.
    return usage.onRequestHeaders(endOfStream);
  }

  private sessionId(config: StatisticsConfig): string | null {
    if (config.sessionIdHeader.length > 0) {
      const value = getRequestHeader(config.sessionIdHeader);
      if (value !== null && value.length > 0) return value;
    }
    for (let i = 0; i < DEFAULT_SESSION_HEADERS.length; i++) {
      const value = getRequestHeader(unchecked(DEFAULT_SESSION_HEADERS[i]));
      if (value !== null && value.length > 0) return value;
    }
    return null;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    const usage = this.usage;
    if (usage === null) return DataAction.Continue;
    requestObserver.target = this;
    const action = usage.onRequestBody(bodySize, endOfStream, false);
    requestObserver.target = null;
    return action;
  }

  onRequestTrailers(trailerCount: u32): TrailersAction {
    const usage = this.usage;
    if (usage !== null) {
      requestObserver.target = this;
      usage.onRequestTrailers();
      requestObserver.target = null;
    }
    return TrailersAction.Continue;
  }

  /** The whole request body, a JSON object, before any include_usage is added. */
  onRequestBodyBytes(ptr: usize, size: i32): void {
    const config = this.config!;
    this.bodyRead = true;
    this.log.int(CHAT_ROUND_KEY, chatRound(ptr, size, skipSpace(ptr, size, utf8MarkLength(ptr, size))));
    for (let i = 0; i < config.requestBodyAttributes.length; i++) {
      const attribute = unchecked(config.requestBodyAttributes[i]);
      this.put(attribute.key, bodyValue(ptr, size, attribute.requestPaths, found), attribute.defaultValue);
    }
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const config = this.config;
    const usage = this.usage;
    if (config === null || usage === null || this.finished) return HeaderAction.Continue;
    // A request whose body was never read as JSON still has its round: none.
    if (this.hadBody && !this.bodyRead) this.log.int(CHAT_ROUND_KEY, 0);
    usage.onResponseHeaders();
    this.recording = config.contentTypes.length == 0 || contentTypeEnabled(getResponseHeader("content-type"), config.contentTypes);
    if (this.recording) {
      for (let i = 0; i < config.responseHeaderAttributes.length; i++) {
        const attribute = unchecked(config.responseHeaderAttributes[i]);
        this.put(attribute.key, headerValue(attribute, found), attribute.defaultValue);
      }
      if (usage.eventStream && config.streamAttributes.length > 0) {
        const streamed = new StreamedValues(config.streamAttributes, config.valueLengthLimit);
        this.streamed = streamed;
        this.events = new SseEvents(streamed);
        usage.responseObserver = responseObserver;
      } else if (!usage.eventStream && config.responseBodyAttributes.length > 0) {
        this.bodyCopy = new ByteCopy();
        usage.responseObserver = responseObserver;
      }
    }
    if (endOfStream) this.finish();
    return HeaderAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    const usage = this.usage;
    if (usage === null || this.finished) return DataAction.Continue;
    if (this.firstByte == 0) this.firstByte = nowNanos();
    responseObserver.target = this;
    usage.onResponseBody(bodySize, endOfStream);
    responseObserver.target = null;
    if (endOfStream) this.finish();
    return DataAction.Continue;
  }

  /** A chunk of the answer as the usage reader reads it (JSON or SSE, not compressed). */
  onResponseBodyBytes(ptr: usize, size: usize): void {
    const events = this.events;
    if (events !== null) events.push(ptr, size);
    const copy = this.bodyCopy;
    if (copy !== null) copy.append(ptr, <i32>size);
  }

  /** The stream ended before its answer did (client hang-up, reset): Higress writes no metrics for it, nor do we. */
  onDelete(): void {
    if (this.usage !== null && !this.finished) this.usage!.settle();
  }

  /** Writes `value` (else `defaultValue` when it is empty) under `key`, and keeps what the metrics count. */
  private put(key: string, value: FoundValue, defaultValue: string): void {
    if (!value.valid && defaultValue.length > 0) value.set(VALUE_STRING, defaultValue);
    const limit = this.config!.valueLengthLimit;
    if (value.kind == VALUE_STRING) this.log.string(key, truncated(value.text, limit));
    else if (value.kind == VALUE_JSON && value.text.length <= limit) this.log.json(key, value.text);
    else if (value.kind == VALUE_JSON) this.log.string(key, truncated(value.text, limit));
    else this.log.json(key, "null");
    if (key == MODEL_KEY) this.model = value.kind == VALUE_STRING ? value.text : null;
    else if (key == INPUT_TOKEN_KEY) this.input = countOf(value);
    else if (key == OUTPUT_TOKEN_KEY) this.output = countOf(value);
    else if (key == TOTAL_TOKEN_KEY) this.total = countOf(value);
  }

  /** The usage the answer reported, as Higress's tokenusage writes it. */
  private putUsage(usage: TokenUsage): void {
    let model = usage.model;
    if (model.length == 0) {
      const configured = this.model;
      if (configured !== null && configured.length > 0 && configured != UNKNOWN_MODEL) model = configured;
      else model = this.usage!.requestModel.length > 0 ? this.usage!.requestModel : geminiModel(this.path);
      if (model.length == 0) model = UNKNOWN_MODEL;
    }
    this.model = model;
    this.input = usage.inputTokens;
    this.output = usage.outputTokens;
    this.total = usage.totalTokens;
    this.log.string(MODEL_KEY, model).int(INPUT_TOKEN_KEY, usage.inputTokens).int(OUTPUT_TOKEN_KEY, usage.outputTokens).int(TOTAL_TOKEN_KEY, usage.totalTokens);
  }

  /** The answer's last byte: ai_log written once, then the counters. */
  private finish(): void {
    this.finished = true;
    const config = this.config!;
    const stream = this.usage!;
    const reported = stream.settle();
    const now = nowNanos();
    if (!this.recording) {
      this.log.write(PLUGIN_NAME);
      return;
    }
    const streamed = stream.eventStream;
    const service = millisBetween(this.started, now);
    const firstToken = millisBetween(this.started, this.firstByte == 0 ? now : this.firstByte);
    this.log.string(RESPONSE_TYPE_KEY, streamed ? RESPONSE_STREAM : RESPONSE_NORMAL);
    if (streamed) this.log.int(FIRST_TOKEN_DURATION_KEY, firstToken);
    this.log.int(SERVICE_DURATION_KEY, service);
    const chatId = stream.chatId;
    if (chatId.length > 0) this.log.string(CHAT_ID_KEY, chatId);
    if (reported !== null && !config.disableOpenAiUsage) this.putUsage(reported);
    this.putBodyAttributes(config);
    this.log.write(PLUGIN_NAME);
    if (config.disableOpenAiUsage) return;
    const model = this.model;
    if (model === null || this.input < 0 || this.output < 0 || this.total < 0) return;
    this.count(INPUT_TOKEN_METRIC, model, this.input);
    this.count(OUTPUT_TOKEN_METRIC, model, this.output);
    this.count(TOTAL_TOKEN_METRIC, model, this.total);
    if (streamed) {
      this.count(FIRST_TOKEN_DURATION_METRIC, model, firstToken);
      this.count(STREAM_DURATION_COUNT_METRIC, model, 1);
    }
    this.count(SERVICE_DURATION_METRIC, model, service);
    this.count(DURATION_COUNT_METRIC, model, 1);
  }

  /** response_body attributes from the kept body, or response_streaming_body ones from the events. */
  private putBodyAttributes(config: StatisticsConfig): void {
    const events = this.events;
    if (events !== null) {
      events.finish();
      const streamed = this.streamed!;
      for (let i = 0; i < config.streamAttributes.length; i++) {
        const attribute = unchecked(config.streamAttributes[i]);
        this.put(attribute.key, streamed.valueOf(i, found), attribute.defaultValue);
      }
      return;
    }
    const copy = this.bodyCopy;
    if (copy === null) return;
    for (let i = 0; i < config.responseBodyAttributes.length; i++) {
      const attribute: Attribute = unchecked(config.responseBodyAttributes[i]);
      const value = copy.overflowed ? found.set(VALUE_NONE, "") : bodyValue(copy.ptr, copy.length, attribute.bodyPaths, found);
      this.put(attribute.key, value, attribute.defaultValue);
    }
  }

  /** Higress adds nothing for 0 (its counter is not even defined then). */
  private count(name: string, model: string, amount: i64): void {
    if (amount > 0) this.metrics.count(name, model, amount);
  }
}
