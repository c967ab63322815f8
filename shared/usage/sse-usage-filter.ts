/**
 * Takes the usage-only event out of an SSE response whose request a plugin changed (decision A1).
 *
 * Why it exists: to charge a stream the AI plugins add `stream_options.include_usage: true` to a
 * streaming request that did not ask for usage (or asked for none). The upstream then ends the
 * stream with one extra event, `data: {…,"choices":[],"usage":{…}}`, which the client never asked
 * for and which breaks clients that read `choices[0]` of every chunk. The usage reader sees the
 * upstream's bytes first and charges from them; this filter then removes that event from what the
 * client receives, so the injection stays invisible. Used only when a plugin injected the option
 * (see injection-mark.ts): a client that asked for usage gets it.
 *
 * What is removed: each whole event (its first byte to the end of the blank line that ends it)
 * whose lines are all `data:` lines and whose data is one JSON object with an empty top-level
 * `choices` and an object `usage` (usage-only-chunk.ts). Everything else reaches the client byte
 * for byte: content events, `[DONE]`, comments, events with other fields, a last chunk that carries
 * usage beside non-empty choices (DashScope's compatible mode), an event longer than
 * MAX_HELD_EVENT. The end of the stream ends an event too.
 *
 * How (G5): chunk by chunk, with the same output for any chunking (a split inside `data:`, between
 * `\r` and `\n`, one byte per chunk). An event is held back only while it may still be the
 * usage-only one: a content event is known at the byte after `"choices":[`, so with a chunk that
 * brings whole events nothing is held and nothing is copied. Content events of one stream mostly
 * begin with the same bytes up to that point (id, created, model repeat), so the bytes that decided
 * the last one are kept, and an event that begins with them is decided by one comparison: the test
 * is deterministic, so the same bytes give the same answer. What is held lives in one buffer of
 * MAX_HELD_EVENT bytes; an event that grows past it cannot be the few-hundred-byte usage event and
 * is released at once, so memory is bounded whatever the upstream sends. Held bytes go out at the
 * front of the next chunk, or are dropped with the event. A chunk whose bytes all pass unchanged
 * is left alone; a changed one is given to a ChunkSink as pieces (the held bytes released, then the
 * runs of the chunk that go out) that point into the held buffer and the host's block, so nothing is
 * allocated per chunk. Limit: a stream ended by trailers leaves an event still held (one without
 * its blank line, which SSE clients discard anyway) unsent.
 */
import { lineEnd } from "../tokens/scan";
import { UsageOnlyChunk } from "./usage-only-chunk";

/**
 * The most bytes of one event held back; a usage-only event is a few hundred. An event with more
 * (not counting the LF of its closing CRLF, which is never held) is released, whatever it holds.
 */
export const MAX_HELD_EVENT: i32 = 4096;

const BETWEEN: i32 = 0; // at the start of a line, no event open
const CANDIDATE: i32 = 1; // an event that may still be the usage-only one, held until it is known
const PASSING: i32 = 2; // an event that is not, passed on until its blank line

// Where a candidate is within its current line.
const FIELD: i32 = 0; // the field name, which must be "data"
const SPACE: i32 = 1; // after "data:": one optional space
const DATA: i32 = 2; // the data
const LINE_START: i32 = 3; // at the start of a later line of the event

const LF: u32 = 0x0a;
const CR: u32 = 0x0d;
const DATA_FIELD: StaticArray<u8> = [0x64, 0x61, 0x74, 0x61];
/** "data" and ": " as little-endian words: almost every line starts so, taken in one step. */
const DATA_WORD: u32 = 0x61746164;
const COLON_SPACE: u16 = 0x203a;
/** The longest start of a content event kept to decide the next ones by comparison. */
const MAX_PREFIX: i32 = 512;

/** True when the `length` bytes at a and b are equal, eight at a time (unaligned loads). */
function sameBytes(a: usize, b: usize, length: usize): bool {
  let i: usize = 0;
  while (i + 8 <= length) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < length) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}

/** Receives what the client gets in place of a changed chunk, in order; the bytes live until the call returns. */
export abstract class ChunkSink {
  /** The first piece: it replaces the whole chunk (length may be 0). */
  abstract replace(ptr: usize, length: usize): void;
  /** Each later piece follows the previous ones. */
  abstract append(ptr: usize, length: usize): void;
}

export class SseUsageFilter {
  private mode: i32 = BETWEEN;
  private line: i32 = FIELD;
  private fieldLength: i32 = 0;
  /** The last byte was a CR: a LF right after it belongs to the same line end. */
  private afterCr: bool = false;
  /** That CR ended a removed event, so its LF goes too. */
  private dropLf: bool = false;
  /** In a passing event: the last byte ended a line. */
  private passLineStart: bool = false;
  private usageOnly: UsageOnlyChunk = new UsageOnlyChunk();
  private held: StaticArray<u8> = new StaticArray<u8>(MAX_HELD_EVENT);
  /** Bytes of the open candidate held from earlier chunks. */
  private heldLength: i32 = 0;
  /** The first bytes of the last event that the usage-only test decided against, up to the deciding byte. */
  private prefix: StaticArray<u8> = new StaticArray<u8>(MAX_PREFIX);
  private prefixLength: i32 = 0;
  /** The open candidate is still on its first line. */
  private firstLine: bool = false;

  // One chunk's bookkeeping: bytes [runStart, i) go out unless a removal cuts them.
  private runStart: i32 = 0;
  /** First byte of the open candidate in this chunk (0 when it began in an earlier one). */
  private candidateStart: i32 = 0;
  /** Chunk offset at which the open candidate passes MAX_HELD_EVENT bytes. */
  private limit: i32 = 0;
  /** Held bytes released this chunk, to go out first. */
  private releasedLength: i32 = 0;
  private changed: bool = false;
  /** Pairs of [start, end) offsets of this chunk that go out, in order. */
  private runs: Array<i32> = new Array<i32>();

  /** Back to a new stream's state, keeping the buffers. */
  reset(): void {
    this.mode = BETWEEN;
    this.afterCr = false;
    this.dropLf = false;
    this.heldLength = 0;
    this.prefixLength = 0;
  }

  /**
   * Filters the `size` bytes at `ptr` (`last`: the stream ends with them). Returns false when they
   * go out as they came; else true, after giving `sink` what goes out instead.
   */
  push(ptr: usize, size: usize, last: bool, sink: ChunkSink): bool {
    const n = <i32>size;
    this.runStart = 0;
    this.candidateStart = 0;
    this.limit = MAX_HELD_EVENT - this.heldLength;
    this.releasedLength = 0;
    this.changed = false;
    this.runs.length = 0;
    let i = 0;
    while (i < n) {
      if (this.mode == CANDIDATE && i >= this.limit) this.release();
      const c = <u32>load<u8>(ptr + <usize>i);
      if (this.afterCr) {
        this.afterCr = false;
        if (c == LF) {
          if (this.dropLf) this.cut(i, i + 1);
          this.dropLf = false;
          i++;
          continue;
        }
      }
      this.dropLf = false;
      const mode = this.mode;
      if (mode == PASSING) {
        if (c == LF || c == CR) {
          if (this.passLineStart) this.mode = BETWEEN;
          this.passLineStart = true;
          this.afterCr = c == CR;
          i++;
        } else {
          this.passLineStart = false;
          i = <i32>lineEnd(ptr, <usize>i, size);
        }
        continue;
      }
      if (mode == BETWEEN) {
        if (c == LF || c == CR) {
          this.afterCr = c == CR;
          i++;
          continue;
        }
        const known = this.prefixLength;
        if (known > 0 && i + known <= n && sameBytes(ptr + <usize>i, changetype<usize>(this.prefix), <usize>known)) {
          // Begins like the last content event, through the byte that decided it: not usage-only.
          this.mode = PASSING;
          this.passLineStart = false;
          i += known;
          continue;
        }
        this.open(i);
      }
      i = this.candidate(ptr, i, n, c);
    }
    if (this.mode == CANDIDATE && last) this.endEvent(n, false);
    const holding = this.mode == CANDIDATE && n > this.candidateStart;
    const runEnd = holding ? this.candidateStart : n;
    if (holding) this.changed = true;
    if (!this.changed) return false;
    this.output(ptr, runEnd, sink);
    if (holding) this.hold(ptr, n);
    return true;
  }

  /** An event begins at chunk offset i. */
  private open(i: i32): void {
    this.mode = CANDIDATE;
    this.line = FIELD;
    this.fieldLength = 0;
    this.usageOnly.reset();
    this.candidateStart = i;
    this.limit = i + MAX_HELD_EVENT;
    this.firstLine = true;
  }

  /** One step of a candidate at byte c (offset i); returns the offset to go on from. */
  private candidate(ptr: usize, i: i32, n: i32, c: u32): i32 {
    const line = this.line;
    if (line == DATA) {
      if (c == LF || c == CR) {
        if (!this.usageOnly.lineBreak()) {
          this.release();
          return i;
        }
        this.line = LINE_START;
        this.firstLine = false;
        this.afterCr = c == CR;
        return i + 1;
      }
      const end = min(<i32>lineEnd(ptr, <usize>i, <usize>n), this.limit);
      if (!this.usageOnly.feed(ptr, <usize>i, <usize>end)) {
        this.keepPrefix(ptr);
        this.release();
      }
      return end;
    }
    if (line == LINE_START) {
      if (c == LF || c == CR) {
        // The blank line: the event is whole.
        this.afterCr = c == CR;
        this.endEvent(i + 1, c == CR);
        return i + 1;
      }
      this.line = FIELD;
      this.fieldLength = 0;
    } else if (line == SPACE) {
      this.line = DATA;
      return c == 0x20 ? i + 1 : i;
    }
    const length = this.fieldLength;
    if (length == 0 && i + 6 <= n && load<u32>(ptr + <usize>i) == DATA_WORD && load<u16>(ptr + <usize>i + 4) == COLON_SPACE && i + 6 <= this.limit) {
      this.line = DATA;
      return i + 6;
    }
    if (length < DATA_FIELD.length && unchecked(DATA_FIELD[length]) == <u8>c) {
      this.fieldLength = length + 1;
      return i + 1;
    }
    if (length == DATA_FIELD.length && c == 0x3a) {
      this.line = SPACE;
      return i + 1;
    }
    // A comment, another field, or "data" without a colon: not the usage-only event.
    this.release();
    return i;
  }

  /** The test just decided against an event on its first line: keep its bytes up to there, when all are in this chunk. */
  private keepPrefix(ptr: usize): void {
    const length = <i32>this.usageOnly.decidedAt - this.candidateStart;
    if (!this.firstLine || this.heldLength > 0 || length > MAX_PREFIX) return;
    memory.copy(changetype<usize>(this.prefix), ptr + <usize>this.candidateStart, <usize>length);
    this.prefixLength = length;
  }

  /** The open candidate is not the usage-only event: it goes out, held part first. */
  private release(): void {
    this.mode = PASSING;
    this.passLineStart = this.line == LINE_START;
    if (this.heldLength > 0) {
      this.releasedLength = this.heldLength;
      this.heldLength = 0;
      this.changed = true;
    }
  }

  /** The open candidate ends before chunk offset `end`: removed if it is usage-only, else released. */
  private endEvent(end: i32, endedByCr: bool): void {
    if (!this.usageOnly.complete) {
      this.release();
      this.mode = BETWEEN;
      return;
    }
    this.mode = BETWEEN;
    this.heldLength = 0;
    this.cut(this.candidateStart, end);
    this.dropLf = endedByCr;
  }

  /** Bytes [start, end) of this chunk do not go out. */
  private cut(start: i32, end: i32): void {
    if (start > this.runStart) {
      this.runs.push(this.runStart);
      this.runs.push(start);
    }
    this.runStart = end;
    this.changed = true;
  }

  /** Released held bytes, then this chunk's runs up to runEnd. */
  private output(ptr: usize, runEnd: i32, sink: ChunkSink): void {
    const runs = this.runs;
    if (runEnd > this.runStart) {
      runs.push(this.runStart);
      runs.push(runEnd);
    }
    sink.replace(changetype<usize>(this.held), <usize>this.releasedLength);
    for (let r = 0; r < runs.length; r += 2) {
      const start = unchecked(runs[r]);
      sink.append(ptr + <usize>start, <usize>(unchecked(runs[r + 1]) - start));
    }
  }

  /** Keeps the open candidate's bytes of this chunk, after those of earlier chunks. */
  private hold(ptr: usize, n: i32): void {
    const start = this.candidateStart;
    const length = n - start;
    memory.copy(changetype<usize>(this.held) + <usize>this.heldLength, ptr + <usize>start, <usize>length);
    this.heldLength += length;
  }
}

// Filters finished by earlier streams, reset and ready: each holds a MAX_HELD_EVENT buffer.
const spareFilters = new Array<SseUsageFilter>();
const MAX_SPARE_FILTERS = 16;

export function takeSseUsageFilter(): SseUsageFilter {
  return spareFilters.length > 0 ? spareFilters.pop() : new SseUsageFilter();
}

export function returnSseUsageFilter(filter: SseUsageFilter): void {
  if (spareFilters.length >= MAX_SPARE_FILTERS) return;
  filter.reset();
  spareFilters.push(filter);
}
