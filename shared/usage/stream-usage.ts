/**
 * Token usage of one HTTP stream, for the AI plugins: adds stream_options.include_usage to
 * streaming requests (decision A1), asks for an uncompressed response, reads the usage the
 * response reports chunk by chunk, and estimates it when a metered response ends without (A4).
 * Call each method from the matching HttpContext callback, and `settle` once the stream is over.
 */
import {
  HeaderAction, DataAction, LogLevel, getRequestHeader, hasRequestHeader, setRequestHeader, removeRequestHeader, getResponseHeader, requestBodySize,
  setRequestBody, BodyReader, readRequestBody, readResponseBody, setResponseBodyAt, logDebug, logEnabled,
} from "../index";
import {
  UsageReader, TokenUsage, readRequestInfoAt, injectStreamUsageAt, shouldReadUsage, REFUSE_NONE, START_MORE, START_OBJECT, START_WIDE,
  requestBodyStart, readableRequestEncoding,
} from "../tokens/index";
import { BodyRefusal, UNREADABLE_ENCODING, UNDECIDABLE_LIMIT, refusalOf } from "./refusal";
import { UsageOptions } from "./options";
import { estimateUsage } from "./estimate";
import { reservationFor } from "./reservation";
import { indexOfAsciiCaseless } from "../text/index";
import { SseUsageFilter, ChunkSink, takeSseUsageFilter, returnSseUsageFilter } from "./sse-usage-filter";
import { markStreamRequest, streamUsageInjected } from "./injection-mark";

/** Removed from every metered request, so the upstream answers in a body the reader can read (A4). */
const ACCEPT_ENCODING = "accept-encoding";
/** The model label of a charge whose request and response named none. */
const UNKNOWN_MODEL = "unknown";

/** Puts a filtered chunk in place of the host's: replace its bytes, then append (Envoy's set_buffer_bytes rules). */
class ResponseChunk extends ChunkSink {
  size: u32 = 0;
  private written: u32 = 0;
  replace(ptr: usize, length: usize): void {
    setResponseBodyAt(0, this.size, ptr, length);
    this.written = <u32>length;
  }
  append(ptr: usize, length: usize): void {
    setResponseBodyAt(this.written, 0, ptr, length);
    this.written += <u32>length;
  }
}
const responseChunk = new ResponseChunk();

// Readers finished by earlier responses, reset and ready: a reader holds a dozen buffers.
const spareReaders = new Array<UsageReader>();
const MAX_SPARE_READERS = 16;

function takeReader(): UsageReader {
  return spareReaders.length > 0 ? spareReaders.pop() : new UsageReader();
}

function returnReader(reader: UsageReader): void {
  if (spareReaders.length >= MAX_SPARE_READERS) return;
  reader.reset();
  spareReaders.push(reader);
}

/** A whole request body, read in place: its `model`, why it is refused, its output limits, and the body with include_usage added when asked. */
class RequestBodyRead extends BodyReader {
  model: string = "";
  refusal: i32 = REFUSE_NONE;
  stream: bool = false;
  maxOutputTokens: i64 = -1;
  choices: i64 = 1;
  limitUndecidable: bool = false;
  rewritten: ArrayBuffer | null = null;
  private inject: bool = false;
  private observer: BodyReader | null = null;
  /** Ready for the next body: nothing read yet (a body the host cannot give stays so). */
  prepare(inject: bool, observer: BodyReader | null): RequestBodyRead {
    this.model = "";
    this.refusal = REFUSE_NONE;
    this.stream = false;
    this.maxOutputTokens = -1;
    this.choices = 1;
    this.limitUndecidable = false;
    this.rewritten = null;
    this.inject = inject;
    this.observer = observer;
    return this;
  }
  read(ptr: usize, size: usize): void {
    // The body as the client sent it, before include_usage is added.
    const observer = this.observer;
    // Not kept past this body: the module's one reader would hold a finished stream's observer.
    this.observer = null;
    if (observer !== null) observer.read(ptr, size);
    const info = readRequestInfoAt(ptr, <i32>size);
    this.model = info.model;
    // With inject_stream_usage off the body is read for its model only: nothing in it is refused.
    this.refusal = this.inject ? info.refusal : REFUSE_NONE;
    this.stream = info.stream;
    this.maxOutputTokens = info.maxOutputTokens;
    this.choices = info.choices;
    this.limitUndecidable = info.limitUndecidable;
    if (this.inject) this.rewritten = injectStreamUsageAt(ptr, <i32>size, info);
  }
}

// One body is read at a time, and what is read is taken out before the next.
const bodyRead = new RequestBodyRead();

/** The start of a request body still arriving: START_* (one body is read at a time). */
class RequestStartRead extends BodyReader {
  start: i32 = START_MORE;
  read(ptr: usize, size: usize): void {
    this.start = requestBodyStart(ptr, <i32>size, false);
  }
}
const startRead = new RequestStartRead();

export class StreamUsage extends BodyReader {
  /** The request's top-level `model`, or "" when the body had none. */
  requestModel: string = "";
  /**
   * Set when the request body cannot be read as the upstream would read it (A1; only while
   * include_usage is injected, since then the plugin's reading decides what is charged): the plugin
   * answers it with refuseRequestBody and keeps the request from going upstream. The headers are
   * no longer held for it, so a plugin that does not meter the request lets it pass unchanged.
   */
  refusal: BodyRefusal | null = null;
  /** Shown the whole request body when it is read (a JSON object), before include_usage is added; ai-statistics' attributes. */
  requestObserver: BodyReader | null = null;
  /** Shown each response chunk the usage reader reads (JSON or SSE, not compressed), in place. */
  responseObserver: BodyReader | null = null;
  /** Set by onResponseHeaders: the response is an SSE stream (its content-type names event-stream). */
  eventStream: bool = false;
  private holdingHeaders: bool = false;
  /** The request's output limit (-1: none) and choices, for a reservation. */
  private maxOutputTokens: i64 = -1;
  private choices: i64 = 1;
  /** The body starts as a JSON object: held until it is whole. */
  private bodyIsObject: bool = false;
  private reader: UsageReader | null = null;
  private result: TokenUsage | null = null;
  /** Body bytes each way, and whether the response is one the estimate covers (2xx). */
  private requestBytes: u64 = 0;
  /** Request body bytes already sent on, not in Envoy's buffer any more. */
  private passedBytes: u64 = 0;
  private responseBytes: u64 = 0;
  private metered: bool = false;
  private sseEvents: i32 = -1;
  private settled: bool = false;
  /** A streaming request: this plugin was its first usage reader (injection-mark.ts) / added include_usage. */
  private firstReader: bool = false;
  private injected: bool = false;
  private filter: SseUsageFilter | null = null;
  private lastChunk: bool = false;

  constructor(private readonly options: UsageOptions) {
    super();
  }

  /**
   * From onRequestHeaders: any request body may be JSON to the upstream, whatever its
   * content-type, so keep the headers (0.2.100 StopIteration still delivers the body) until the
   * body is known not to be a JSON object, or is whole and content-length is right.
   */
  onRequestHeaders(endOfStream: bool): HeaderAction {
    // What Higress's ai-proxy does too: a compressed answer would hide its usage from the reader.
    removeRequestHeader(ACCEPT_ENCODING);
    if (endOfStream) return HeaderAction.Continue;
    if (this.options.inject && !readableRequestEncoding(getRequestHeader("content-encoding"), getRequestHeader("content-type"))) {
      this.refusal = UNREADABLE_ENCODING;
      return HeaderAction.Continue;
    }
    this.holdingHeaders = true;
    return HeaderAction.StopIteration;
  }

  /** True while the request headers wait for the whole body. */
  get waitingForBody(): bool {
    return this.holdingHeaders;
  }

  /**
   * What the request may use (shared/usage/reservation.ts), once its body is read: whole, or
   * known not to be a JSON object (then its bytes so far, and reserve_output_tokens), or absent.
   */
  reservation(): i64 {
    return reservationFor(this.requestBytes, this.maxOutputTokens, this.choices, this.options);
  }

  /** True once a 2xx response has started: only then was anything served. */
  get succeeded(): bool {
    return this.metered;
  }

  /**
   * From onRequestBody, with `held` true while the plugin keeps the body back for its own reasons
   * (a check not yet answered): returns the action for the chunk, and counts the body's bytes.
   */
  onRequestBody(bodySize: u32, endOfStream: bool, held: bool): DataAction {
    const action = this.requestBodyAction(bodySize, endOfStream);
    // Envoy's size counts the bytes buffered before this chunk too: bytes passed on count once.
    this.requestBytes = this.passedBytes + bodySize;
    if (held) return DataAction.StopIterationAndBuffer;
    if (action == DataAction.Continue) this.passedBytes += bodySize;
    return action;
  }

  /** Buffers a JSON object to the end, then reads model/stream and injects include_usage. */
  private requestBodyAction(bodySize: u32, endOfStream: bool): DataAction {
    if (!this.holdingHeaders) return DataAction.Continue;
    if (endOfStream) {
      this.readWholeBody(bodySize, false);
      return DataAction.Continue;
    }
    if (!this.bodyIsObject) {
      startRead.start = START_MORE;
      readRequestBody(bodySize, startRead);
      const start = startRead.start;
      if (start == START_MORE) return DataAction.StopIterationAndBuffer;
      if (start != START_OBJECT) {
        // Not a JSON object in UTF-8: it goes on as it is, or is refused when it is one in UTF-16/32.
        this.holdingHeaders = false;
        if (start == START_WIDE && this.options.inject) this.refusal = UNREADABLE_ENCODING;
        return DataAction.Continue;
      }
      this.bodyIsObject = true;
    }
    return DataAction.StopIterationAndBuffer;
  }

  /** The chunk given to onRequestBody as held was let through after all (a check that could not be sent, failing open). */
  releaseHeld(bodySize: u32): void {
    this.passedBytes += bodySize;
  }

  /** From onRequestTrailers: they end a request whose last body chunk did not, so the buffered body is whole. */
  onRequestTrailers(): void {
    const buffered = requestBodySize();
    this.requestBytes = this.passedBytes + buffered;
    if (this.holdingHeaders) this.readWholeBody(buffered, true);
  }

  /** A request ended by trailers is framed without content-length unless it came with one. */
  private readWholeBody(bodySize: u32, endedByTrailers: bool): void {
    this.holdingHeaders = false;
    const body = bodyRead.prepare(this.options.inject, this.requestObserver);
    readRequestBody(bodySize, body);
    this.requestModel = body.model;
    this.maxOutputTokens = body.maxOutputTokens;
    this.choices = body.choices;
    if (body.refusal != REFUSE_NONE) {
      this.refusal = refusalOf(body.refusal);
      return;
    }
    // A reservation sized by a limit the upstream reads otherwise would be no bound at all.
    if (this.options.reserve && body.limitUndecidable) {
      this.refusal = UNDECIDABLE_LIMIT;
      return;
    }
    const rewritten = body.rewritten;
    this.injected = rewritten !== null;
    if (body.stream) this.firstReader = markStreamRequest(this.injected);
    if (rewritten !== null) {
      setRequestBody(0, bodySize, rewritten);
      if (!endedByTrailers || hasRequestHeader("content-length")) setRequestHeader("content-length", rewritten.byteLength.toString());
      if (logEnabled(LogLevel.Debug)) logDebug("added stream_options.include_usage to a streaming request");
    }
  }

  /**
   * From onResponseHeaders: compressed or binary bodies are not read, only counted for the estimate.
   * When include_usage was injected, the first usage reader also takes the usage-only event out of
   * the SSE stream.
   */
  onResponseHeaders(): void {
    const status = getResponseHeader(":status");
    this.metered = status !== null && status.length == 3 && status.charCodeAt(0) == 0x32;
    const type = getResponseHeader("content-type");
    this.eventStream = type !== null && indexOfAsciiCaseless(type, "event-stream") >= 0;
    if (shouldReadUsage(type, getResponseHeader("content-encoding"))) {
      const reader = takeReader();
      reader.readsId = this.options.readChatId;
      this.reader = reader;
      if (this.firstReader && this.eventStream && (this.injected || streamUsageInjected())) {
        this.filter = takeSseUsageFilter();
      }
    } else if (logEnabled(LogLevel.Debug)) {
      logDebug("response body not read for usage: compressed or not JSON/SSE");
    }
  }

  /** From onResponseBody: reads the chunk in place; at the end, the usage is available from `usage`. */
  onResponseBody(bodySize: u32, endOfStream: bool): void {
    this.responseBytes += bodySize;
    const reader = this.reader;
    if (reader === null) return;
    this.lastChunk = endOfStream;
    if (bodySize > 0) readResponseBody(bodySize, this);
    else if (endOfStream) this.filterChunk(0, 0);
    if (endOfStream) this.finishReading(reader);
  }

  /** The reader's result kept, the reader and the filter given back (at the end, or when the stream ends early). */
  private finishReading(reader: UsageReader): void {
    this.result = reader.finish();
    if (reader.isSse) this.sseEvents = reader.dataEvents;
    this.reader = null;
    returnReader(reader);
    const filter = this.filter;
    this.filter = null;
    if (filter !== null) returnSseUsageFilter(filter);
  }

  /** The chunk's bytes, straight from the host's block: usage read first, then the client's copy filtered. */
  read(ptr: usize, size: usize): void {
    const reader = this.reader;
    if (reader !== null) reader.pushBytes(ptr, size);
    const observer = this.responseObserver;
    if (observer !== null) observer.read(ptr, size);
    this.filterChunk(ptr, size);
  }

  private filterChunk(ptr: usize, size: usize): void {
    const filter = this.filter;
    if (filter === null) return;
    responseChunk.size = <u32>size;
    filter.push(ptr, size, this.lastChunk, responseChunk);
  }

  /** The usage the response reported, once its last chunk was read; null before or when none. */
  get usage(): TokenUsage | null {
    const result = this.result;
    return result !== null && result.found ? result : null;
  }

  /** The chat id the response named (UsageOptions.readChatId), once its last chunk was read; "" when none. */
  get chatId(): string {
    const result = this.result;
    return result !== null ? result.chatId : "";
  }

  /** The model label of a charge: the one the response named, else the request's, else "unknown". */
  modelOf(usage: TokenUsage | null): string {
    if (usage !== null && usage.model.length > 0) return usage.model;
    return this.requestModel.length > 0 ? this.requestModel : UNKNOWN_MODEL;
  }

  /**
   * What to charge, once: at the response's end, or when the stream ends without one (client
   * hang-up, upstream reset). The usage read so far when the response reported any; else, for a
   * 2xx response to a request with a body, the estimate (unless estimate_missing_usage is false);
   * else null. Later calls return null, so a stream is charged at most once.
   */
  settle(): TokenUsage | null {
    if (this.settled) return null;
    this.settled = true;
    const reader = this.reader;
    if (reader !== null) this.finishReading(reader);
    const reported = this.usage;
    if (reported !== null || !this.metered || !this.options.estimate) return reported;
    return estimateUsage(this.requestBytes, this.responseBytes, this.sseEvents, this.options.bytesPerToken);
  }
}
