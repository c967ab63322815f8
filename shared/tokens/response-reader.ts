// Incremental usage reader for a response body: detects SSE, JSON or a JSON-array stream and frames SSE events.
import { JsonUsageStream } from "./json-stream";
import { TokenUsage } from "./usage";
import { lineEnd } from "./scan";
import { decodeUtf8Recent } from "../text/utf8";

const FORMAT_UNKNOWN: i32 = 0;
const FORMAT_JSON: i32 = 1;
const FORMAT_JSON_ARRAY: i32 = 2;
const FORMAT_SSE: i32 = 3;

const SSE_LINE_START: i32 = 0;
const SSE_FIELD: i32 = 1;
const SSE_AFTER_COLON: i32 = 2;
const SSE_DATA: i32 = 3;
const SSE_SKIP_LINE: i32 = 4;

/** "data" and ": " as little-endian words, for the common line prefix. */
const DATA_WORD: u32 = 0x61746164;
const COLON_SPACE: u16 = 0x203a;

/** Bytes of the SSE field name "data". */
const DATA_FIELD: StaticArray<u8> = [0x64, 0x61, 0x74, 0x61];

/** Reads token usage from response body chunks as they arrive; same answer for any chunking, constant memory. */
export class UsageReader {
  private json: JsonUsageStream = new JsonUsageStream();
  private format: i32 = FORMAT_UNKNOWN;
  private sseState: i32 = SSE_LINE_START;
  private fieldLength: i32 = 0;
  private fieldIsData: bool = true;
  private afterCarriageReturn: bool = false;
  private lineHadData: bool = false;
  /** SSE events ended so far that carried data. */
  private events: i32 = 0;

  /** Back to the state of a new reader, keeping its buffers. */
  reset(): void {
    this.json.reset();
    this.format = FORMAT_UNKNOWN;
    this.sseState = SSE_LINE_START;
    this.fieldLength = 0;
    this.fieldIsData = true;
    this.afterCarriageReturn = false;
    this.lineHadData = false;
    this.events = 0;
  }

  /** SSE events with data seen so far, one cut off mid-way included: the streamed-content estimate counts them (A4). */
  get dataEvents(): i32 {
    return this.events + (this.lineHadData ? 1 : 0);
  }

  /** Also read the chat id (`id`, `response.id`, `responseId`, `message.id`); off after reset. */
  set readsId(on: bool) {
    this.json.readsId = on;
  }

  /** True once the body is known to be an SSE stream. */
  get isSse(): bool {
    return this.format == FORMAT_SSE;
  }

  /** Feeds one body chunk. */
  push(chunk: ArrayBuffer): void {
    this.pushBytes(changetype<usize>(chunk), <usize>chunk.byteLength);
  }

  /** Feeds len bytes at ptr (for callers holding raw host memory). */
  pushBytes(ptr: usize, len: usize): void {
    let i: usize = 0;
    if (this.format == FORMAT_UNKNOWN) {
      while (i < len) {
        const c = <u32>load<u8>(ptr + i);
        if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
        i++;
      }
      if (i == len) return;
      const first = <u32>load<u8>(ptr + i);
      this.format = first == 0x7b ? FORMAT_JSON : first == 0x5b ? FORMAT_JSON_ARRAY : FORMAT_SSE;
      this.json.rootDepth = this.format == FORMAT_JSON_ARRAY ? 1 : 0;
    }
    if (this.format == FORMAT_SSE) this.pushSse(ptr + i, len - i);
    else this.json.feed(ptr + i, len - i);
  }

  private pushSse(ptr: usize, len: usize): void {
    let i: usize = 0;
    while (i < len) {
      const c = <u32>load<u8>(ptr + i);
      if (this.afterCarriageReturn) {
        this.afterCarriageReturn = false;
        if (c == 0x0a) {
          i++;
          continue;
        }
      }
      if (c == 0x0a || c == 0x0d) {
        this.endLine();
        this.afterCarriageReturn = c == 0x0d;
        i++;
        continue;
      }
      const state = this.sseState;
      if (state == SSE_DATA) {
        const end = lineEnd(ptr, i, len);
        this.json.feed(ptr + i, end - i);
        i = end;
        continue;
      }
      if (state == SSE_LINE_START) {
        // Almost every line is "data: …": take the prefix in one step when it is all here.
        if (i + 6 <= len && load<u32>(ptr + i) == DATA_WORD && load<u16>(ptr + i + 4) == COLON_SPACE) {
          this.sseState = SSE_DATA;
          this.startDataLine();
          i += 6;
          continue;
        }
        this.sseState = SSE_FIELD;
        this.fieldLength = 0;
        this.fieldIsData = true;
      }
      if (this.sseState == SSE_FIELD) {
        if (c == 0x3a) {
          this.sseState = this.fieldIsData && this.fieldLength == 4 ? SSE_AFTER_COLON : SSE_SKIP_LINE;
        } else {
          if (this.fieldLength >= 4 || unchecked(DATA_FIELD[this.fieldLength]) != <u8>c) this.fieldIsData = false;
          this.fieldLength++;
        }
        i++;
      } else if (this.sseState == SSE_AFTER_COLON) {
        // One optional space follows the colon.
        this.sseState = SSE_DATA;
        this.startDataLine();
        if (c == 0x20) i++;
      } else {
        i++;
      }
    }
  }

  private startDataLine(): void {
    // Data lines of one event join with a newline, which is JSON whitespace between tokens.
    if (this.lineHadData) {
      this.json.feed(memory.data<u8>([0x0a]), 1);
    }
    this.lineHadData = true;
  }

  private endLine(): void {
    if (this.sseState == SSE_LINE_START) {
      // A blank line ends the event.
      if (this.lineHadData) this.events++;
      this.json.resetDocument();
      this.lineHadData = false;
    } else if (this.sseState == SSE_AFTER_COLON) {
      this.startDataLine();
    }
    this.sseState = SSE_LINE_START;
  }

  /** Ends the stream and returns what was reported; a document cut off mid-way is not counted. */
  finish(): TokenUsage {
    const usage = new TokenUsage();
    const json = this.json;
    usage.found = json.found;
    usage.inputTokens = json.inputTokens;
    usage.outputTokens = json.outputTokens;
    usage.totalTokens = json.totalTokens;
    usage.model = decodeUtf8Recent(changetype<usize>(json.model), <usize>json.modelLength);
    if (json.idLength > 0) usage.chatId = String.UTF8.decodeUnsafe(changetype<usize>(json.id), <usize>json.idLength);
    return usage;
  }
}

/** Runs a fresh reader over buf in chunks of chunkSize bytes (0 = whole); the entry point for benchmarks and tests. */
export function readUsage(buf: ArrayBuffer, chunkSize: i32): TokenUsage {
  const reader = new UsageReader();
  const total = buf.byteLength;
  const step = chunkSize <= 0 ? total : chunkSize;
  const base = changetype<usize>(buf);
  for (let offset = 0; offset < total; offset += step) {
    reader.pushBytes(base + <usize>offset, <usize>min(step, total - offset));
  }
  return reader.finish();
}
