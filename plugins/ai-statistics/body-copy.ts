/**
 * What the response-body attributes read, kept by the plugin itself: the whole body of an answer
 * that is not a stream (response_body), or one SSE event's data at a time (response_streaming_body).
 * The host's buffer is never held, so the answer reaches the client as it arrives, whatever size;
 * a body or event past MAX_COPY bytes is not kept (its attributes find nothing), so memory stays
 * bounded per stream.
 */

/** The most bytes kept of one answer (response_body) or one SSE event (response_streaming_body). */
export const MAX_COPY: i32 = 4 * 1024 * 1024;

export class ByteCopy {
  private bytes: ArrayBuffer = new ArrayBuffer(0);
  length: i32 = 0;
  /** More than MAX_COPY bytes were offered since the last clear. */
  overflowed: bool = false;

  get ptr(): usize {
    return changetype<usize>(this.bytes);
  }

  clear(): void {
    this.length = 0;
    this.overflowed = false;
  }

  append(ptr: usize, size: i32): void {
    if (this.overflowed || size <= 0) return;
    const needed = this.length + size;
    if (needed > MAX_COPY) {
      this.overflowed = true;
      return;
    }
    if (needed > this.bytes.byteLength) {
      const grown = new ArrayBuffer(max(needed, min(MAX_COPY, max(1024, this.bytes.byteLength * 2))));
      memory.copy(changetype<usize>(grown), changetype<usize>(this.bytes), <usize>this.length);
      this.bytes = grown;
    }
    memory.copy(changetype<usize>(this.bytes) + <usize>this.length, ptr, <usize>size);
    this.length = needed;
  }

  appendByte(c: u8): void {
    const one = memory.data<u8>([0]);
    store<u8>(one, c);
    this.append(one, 1);
  }
}

/** Receives each SSE event's data (its data lines joined by LF). */
export abstract class EventSink {
  abstract onEvent(ptr: usize, size: i32): void;
}

const LINE_START: i32 = 0;
const FIELD: i32 = 1;
const SPACE: i32 = 2;
const DATA: i32 = 3;
const SKIP: i32 = 4;
const DATA_NAME: StaticArray<u8> = [0x64, 0x61, 0x74, 0x61];

/**
 * Splits an SSE body into events as chunks arrive (any chunking, LF, CRLF or CR line ends) and
 * hands each event's data to a sink; the event open when the stream ends is handed over too.
 */
export class SseEvents {
  private data: ByteCopy = new ByteCopy();
  private state: i32 = LINE_START;
  private fieldLength: i32 = 0;
  private fieldIsData: bool = true;
  private hasData: bool = false;
  private afterCr: bool = false;

  constructor(private readonly sink: EventSink) {}

  push(ptr: usize, size: usize): void {
    for (let i: usize = 0; i < size; i++) {
      const c = load<u8>(ptr + i);
      if (this.afterCr) {
        this.afterCr = false;
        if (c == 0x0a) continue;
      }
      if (c == 0x0a || c == 0x0d) {
        this.endLine();
        this.afterCr = c == 0x0d;
        continue;
      }
      const state = this.state;
      if (state == DATA) {
        // The rest of the line in one copy.
        let end = i;
        while (end < size && load<u8>(ptr + end) != 0x0a && load<u8>(ptr + end) != 0x0d) end++;
        this.data.append(ptr + i, <i32>(end - i));
        i = end - 1;
      } else if (state == LINE_START || state == FIELD) {
        if (state == LINE_START) {
          this.state = FIELD;
          this.fieldLength = 0;
          this.fieldIsData = true;
        }
        if (c == 0x3a) {
          this.state = this.fieldIsData && this.fieldLength == 4 ? SPACE : SKIP;
          if (this.state == SPACE) this.startData();
        } else {
          if (this.fieldLength >= 4 || unchecked(DATA_NAME[this.fieldLength]) != c) this.fieldIsData = false;
          this.fieldLength++;
        }
      } else if (state == SPACE) {
        this.state = DATA;
        if (c != 0x20) this.data.appendByte(c);
      }
    }
  }

  private startData(): void {
    // Data lines of one event join with a newline.
    if (this.hasData) this.data.appendByte(0x0a);
    this.hasData = true;
  }

  private endLine(): void {
    if (this.state == LINE_START) this.endEvent();
    // A line of just a field name is that field with an empty value.
    else if (this.state == FIELD && this.fieldIsData && this.fieldLength == 4) this.startData();
    this.state = LINE_START;
  }

  private endEvent(): void {
    if (this.hasData && !this.data.overflowed) this.sink.onEvent(this.data.ptr, this.data.length);
    this.data.clear();
    this.hasData = false;
  }

  /** The stream ended: the event still open counts. */
  finish(): void {
    if (this.state != LINE_START) this.endLine();
    this.endEvent();
  }
}
