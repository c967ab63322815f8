import { stringRunEnd } from "../tokens/scan";

/**
 * Recognises, byte by byte, the JSON of an OpenAI-style usage-only chunk: one object whose
 * top-level `choices` is an empty array and whose top-level `usage` is an object, whatever else it
 * holds and in any member order. It answers "no" as early as the bytes allow (a content chunk at the
 * byte after `"choices":[`, a `"usage":null` at its `n`), so the SSE filter holds a content event
 * only that long. Conservative by design: anything unusual (an escaped key, a raw line break in a
 * string, malformed JSON) is "no", and the event goes to the client unchanged.
 */

const OPEN: i32 = 0; // before the object's '{'
const FIRST_KEY: i32 = 1; // after '{': a key or '}'
const KEY: i32 = 2; // inside a key
const COLON: i32 = 3; // after a key
const VALUE: i32 = 4; // before a member's value
const CHOICES_OPEN: i32 = 5; // after `"choices":[`, only ']' keeps it usage-only
const NESTED: i32 = 6; // inside a string, object or array value
const SCALAR: i32 = 7; // inside a number, true, false or null
const NEXT: i32 = 8; // after a value: ',' or '}'
const NEXT_KEY: i32 = 9; // after ',': a key
const DONE: i32 = 10; // after the object's '}'

const OTHER_KEY: i32 = 0;
const CHOICES_KEY: i32 = 1;
const USAGE_KEY: i32 = 2;

// A key's first eight bytes, little-endian, against these two: one compare per key, not per byte.
const CHOICES_WORD: u64 = 0x00736563696f6863; // "choices"
const CHOICES_LENGTH: i32 = 7;
const USAGE_WORD: u64 = 0x0000006567617375; // "usage"
const USAGE_LENGTH: i32 = 5;

const QUOTE: u32 = 0x22;
const BACKSLASH: u32 = 0x5c;

export class UsageOnlyChunk {
  private state: i32 = OPEN;
  private key: i32 = OTHER_KEY;
  private keyWord: u64 = 0;
  private keyLength: i32 = 0;
  private depth: i32 = 0;
  private inString: bool = false;
  private escaped: bool = false;
  private choicesEmpty: bool = false;
  private usageObject: bool = false;
  /** After feed answered false: the offset just past the byte that decided it. */
  decidedAt: usize = 0;

  /** For the next event's data. */
  reset(): void {
    this.state = OPEN;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.choicesEmpty = false;
    this.usageObject = false;
  }

  /** True when the data so far is a whole usage-only object (only whitespace may follow). */
  get complete(): bool {
    return this.state == DONE && this.choicesEmpty && this.usageObject;
  }

  /**
   * A data line ends (the next one, if any, joins with a newline, which is whitespace between
   * tokens); false when the line ended inside a string, where a raw line break is not JSON.
   */
  lineBreak(): bool {
    const state = this.state;
    if (state == KEY || (state == NESTED && this.inString)) return false;
    if (state == SCALAR) this.state = NEXT;
    return true;
  }

  /**
   * Feeds the data bytes [i, end) at ptr (no line breaks among them); false once they cannot be a
   * usage-only chunk. The state lives in locals while the bytes are walked: this runs on the first
   * bytes of every event of an injected stream.
   */
  feed(ptr: usize, i: usize, end: usize): bool {
    let state = this.state;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    let keyWord = this.keyWord;
    let keyLength = this.keyLength;
    let ok = true;
    while (i < end) {
      if (state == NESTED) {
        if (inString) {
          if (escaped) {
            escaped = false;
            i++;
            continue;
          }
          // Most bytes before "choices" are string values (id, object, model): a word at a time.
          i = stringRunEnd(ptr, i, end);
          if (i >= end) break;
          if (<u32>load<u8>(ptr + i) == BACKSLASH) {
            escaped = true;
          } else {
            inString = false;
            if (depth == 0) state = NEXT;
          }
          i++;
          continue;
        }
        const c = <u32>load<u8>(ptr + i);
        i++;
        // Brackets are counted, not matched: their kind does not matter here.
        if (c == QUOTE) inString = true;
        else if (c == 0x7b || c == 0x5b) depth++;
        else if ((c == 0x7d || c == 0x5d) && --depth == 0) state = NEXT;
        continue;
      }
      if (state == KEY) {
        // The key's bytes up to its quote; only the first eight are kept, the rest counted.
        const run = stringRunEnd(ptr, i, end);
        while (i < run && keyLength < 8) {
          keyWord |= <u64>load<u8>(ptr + i) << (<u64>keyLength << 3);
          keyLength++;
          i++;
        }
        keyLength += <i32>(run - i);
        i = run;
        if (i >= end) break;
        // An escaped key is not what OpenAI sends: not worth decoding, so the event passes.
        if (<u32>load<u8>(ptr + i) == BACKSLASH) {
          i++;
          ok = false;
          break;
        }
        i++;
        this.key = keyLength == CHOICES_LENGTH && keyWord == CHOICES_WORD ? CHOICES_KEY : keyLength == USAGE_LENGTH && keyWord == USAGE_WORD ? USAGE_KEY : OTHER_KEY;
        state = COLON;
        continue;
      }
      const c = <u32>load<u8>(ptr + i);
      i++;
      if (state == SCALAR) {
        if (c == 0x2c) state = NEXT_KEY;
        else if (c == 0x7d) state = DONE;
        else if (c == 0x20 || c == 0x09) state = NEXT;
        continue;
      }
      if (c == 0x20 || c == 0x09) continue;
      if (state == VALUE) {
        const key = this.key;
        if (key == CHOICES_KEY) {
          if (c != 0x5b) {
            ok = false;
            break;
          }
          state = CHOICES_OPEN;
          continue;
        }
        if (key == USAGE_KEY) {
          if (c != 0x7b) {
            ok = false;
            break;
          }
          this.usageObject = true;
        }
        if (c == 0x7b || c == 0x5b) {
          depth = 1;
          state = NESTED;
        } else if (c == QUOTE) {
          depth = 0;
          inString = true;
          state = NESTED;
        } else {
          state = SCALAR;
        }
      } else if ((state == FIRST_KEY || state == NEXT_KEY) && c == QUOTE) {
        state = KEY;
        keyWord = 0;
        keyLength = 0;
      } else if ((state == NEXT || state == FIRST_KEY) && c == 0x7d) {
        state = DONE;
      } else if (state == NEXT && c == 0x2c) {
        state = NEXT_KEY;
      } else if (state == COLON && c == 0x3a) {
        state = VALUE;
      } else if (state == CHOICES_OPEN && c == 0x5d) {
        this.choicesEmpty = true;
        state = NEXT;
      } else if (state == OPEN && c == 0x7b) {
        state = FIRST_KEY;
      } else {
        // Anything else, and anything after the object's end: one object per event.
        ok = false;
        break;
      }
    }
    this.state = state;
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    this.keyWord = keyWord;
    this.keyLength = keyLength;
    if (!ok) this.decidedAt = i;
    return ok;
  }
}
