// Byte-at-a-time JSON tokenizer that keeps only the usage and model fields of each document (and, when asked, the chat id), in constant memory.
import {
  keyIdOf, fieldOfPath, isContainerKey, isUsageKey, MAX_KEY_LENGTH, FIELD_NONE, FIELD_MODEL, FIELD_INPUT, FIELD_OUTPUT, FIELD_TOTAL,
  FIELD_CACHE_CREATION, FIELD_CACHE_READ, FIELD_ID, FIELD_COUNT,
} from "./keys";
import { stringRunEnd } from "./scan";
import { USAGE_CAP, saturatedCount } from "./usage";

const MAX_DEPTH: i32 = 64;
/** Longest model name (and chat id) kept; longer ones are cut. */
export const MAX_MODEL_LENGTH: i32 = 128;
const NO_PRIORITY: i32 = 255;
const MAX_FRACTION_DIGITS: i32 = 17;
/** Exponent digits and dropped integer digits stop counting here: any more is past the cap (or 0) anyway. */
const MAX_EXPONENT: i32 = 1000;
const PART_INTEGER: i32 = 0;
const PART_FRACTION: i32 = 1;
const PART_EXPONENT: i32 = 2;
const KIND_OBJECT: u8 = 1;
const KIND_ARRAY: u8 = 2;

const ST_VALUE: i32 = 0;
const ST_AFTER_VALUE: i32 = 1;
const ST_KEY_OR_END: i32 = 2;
const ST_KEY: i32 = 3;
const ST_KEY_ESCAPE: i32 = 4;
const ST_COLON: i32 = 5;
const ST_STRING: i32 = 6;
const ST_STRING_ESCAPE: i32 = 7;
const ST_NUMBER: i32 = 8;
const ST_LITERAL: i32 = 9;
const ST_ERROR: i32 = 10;
/** Inside a container no usage or model path goes through: only brackets and strings matter. */
const ST_SKIP: i32 = 11;

function isSpace(c: u32): bool {
  return c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09;
}

/** Reads documents (the root value, or each element of a root array) and keeps the last usage Higress would keep. */
export class JsonUsageStream {
  private state: i32 = ST_VALUE;
  private depth: i32 = 0;
  private kinds: StaticArray<u8> = new StaticArray<u8>(MAX_DEPTH + 1);
  private containerKeys: StaticArray<u8> = new StaticArray<u8>(MAX_DEPTH + 1);
  private keyBuffer: StaticArray<u8> = new StaticArray<u8>(MAX_KEY_LENGTH);
  private keyLength: i32 = 0;
  private pendingKey: u8 = 0;
  private target: i32 = FIELD_NONE;
  private targetPriority: i32 = NO_PRIORITY;
  private digits: i64 = 0;
  private sawDigit: bool = false;
  private stopDigits: bool = false;
  private numberPart: i32 = PART_INTEGER;
  private negative: bool = false;
  private fraction: i64 = 0;
  private fractionLength: i32 = 0;
  /** Integer digits past the first ones that already exceed USAGE_CAP: each one is a power of ten. */
  private droppedDigits: i32 = 0;
  private exponent: i32 = 0;
  private exponentNegative: bool = false;
  private skipDepth: i32 = 0;
  private skipInString: bool = false;
  private skipEscape: bool = false;

  private docValues: StaticArray<i64> = new StaticArray<i64>(FIELD_COUNT);
  private docPriorities: StaticArray<u8> = new StaticArray<u8>(FIELD_COUNT);
  private docModel: StaticArray<u8> = new StaticArray<u8>(MAX_MODEL_LENGTH);
  private docModelLength: i32 = 0;
  private docId: StaticArray<u8> = new StaticArray<u8>(MAX_MODEL_LENGTH);
  private docIdLength: i32 = 0;
  private captureLength: i32 = 0;
  /** The value being read is a string (its bytes are in `capture` when it is a target). */
  private stringValue: bool = false;
  private capture: StaticArray<u8> = new StaticArray<u8>(MAX_MODEL_LENGTH);

  /** Depth of the containers whose children are documents: 0 for a JSON body or SSE event, 1 for a JSON-array stream. */
  rootDepth: i32 = 0;
  found: bool = false;
  inputTokens: i64 = 0;
  outputTokens: i64 = 0;
  totalTokens: i64 = 0;
  model: StaticArray<u8> = new StaticArray<u8>(MAX_MODEL_LENGTH);
  modelLength: i32 = 0;
  /** Read the chat id too (ai-statistics); the charging plugins leave it off and skip it as any other string. */
  readsId: bool = false;
  /** The chat id of the last document that named one (as the model: kept whether or not it reported usage). */
  id: StaticArray<u8> = new StaticArray<u8>(MAX_MODEL_LENGTH);
  idLength: i32 = 0;

  /** Back to the state of a new stream, keeping the buffers (readers are reused across responses). */
  reset(): void {
    this.state = ST_VALUE;
    this.depth = 0;
    this.keyLength = 0;
    this.pendingKey = 0;
    this.target = FIELD_NONE;
    this.targetPriority = NO_PRIORITY;
    this.resetNumber();
    this.skipDepth = 0;
    this.skipInString = false;
    this.skipEscape = false;
    // The buffers keep their bytes: every byte read is written first in the new stream (a
    // container's kind and key when it opens, a document's fields when it begins, names up to
    // their lengths), so clearing them would only touch memory.
    this.docModelLength = 0;
    this.docIdLength = 0;
    this.captureLength = 0;
    this.rootDepth = 0;
    this.found = false;
    this.inputTokens = 0;
    this.outputTokens = 0;
    this.totalTokens = 0;
    this.modelLength = 0;
    this.readsId = false;
    this.idLength = 0;
  }

  /** Forgets any half-read document (an SSE event ended); committed usage is kept. */
  resetDocument(): void {
    this.state = ST_VALUE;
    this.depth = 0;
    this.target = FIELD_NONE;
    this.skipDepth = 0;
  }

  /** Feeds len bytes at ptr. */
  feed(ptr: usize, len: usize): void {
    let i: usize = 0;
    while (i < len) {
      const c = <u32>load<u8>(ptr + i);
      const state = this.state;
      if (state == ST_STRING) {
        if (this.target == FIELD_NONE) {
          // Skip long string values quickly: only a quote or backslash matters.
          i = stringRunEnd(ptr, i, len);
          if (i == len) return;
          const s = <u32>load<u8>(ptr + i);
          this.state = s == 0x22 ? ST_AFTER_VALUE : ST_STRING_ESCAPE;
          if (s == 0x22) this.endScalar();
          i++;
          continue;
        }
        if (this.target == FIELD_MODEL || this.target == FIELD_ID) {
          // Copy the model name (or id) in one loop: only a quote or backslash ends the run.
          let length = this.captureLength;
          const capture = changetype<usize>(this.capture);
          while (i < len) {
            const m = <u32>load<u8>(ptr + i);
            if (m == 0x22 || m == 0x5c) break;
            if (length < MAX_MODEL_LENGTH) {
              store<u8>(capture + <usize>length, <u8>m);
              length++;
            }
            i++;
          }
          this.captureLength = length;
          if (i == len) return;
        }
        const e = <u32>load<u8>(ptr + i);
        if (e == 0x22) {
          this.state = ST_AFTER_VALUE;
          this.endScalar();
        } else if (e == 0x5c) {
          this.state = ST_STRING_ESCAPE;
        } else {
          this.stringByte(e);
        }
        i++;
      } else if (state == ST_STRING_ESCAPE) {
        this.state = ST_STRING;
        if (this.target != FIELD_NONE) this.stringByte(c == 0x22 || c == 0x5c || c == 0x2f ? c : 0x3f);
        i++;
      } else if (state == ST_NUMBER) {
        const tracked = this.target != FIELD_NONE;
        while (i < len) {
          const n = <u32>load<u8>(ptr + i);
          if (!((n >= 0x30 && n <= 0x39) || n == 0x2e || n == 0x65 || n == 0x45 || n == 0x2b || n == 0x2d)) break;
          if (tracked) this.numberByte(n);
          i++;
        }
        if (i == len) return;
        this.state = ST_AFTER_VALUE;
        this.endScalar();
      } else if (state == ST_LITERAL) {
        while (i < len) {
          const l = <u32>load<u8>(ptr + i);
          if (l < 0x61 || l > 0x7a) break;
          i++;
        }
        if (i == len) return;
        this.state = ST_AFTER_VALUE;
        this.target = FIELD_NONE;
      } else if (state == ST_KEY) {
        // Copy plain key bytes in a tight loop; a space inside a key is data.
        let keyLength = this.keyLength;
        const keyBuffer = changetype<usize>(this.keyBuffer);
        while (i < len) {
          const k = <u32>load<u8>(ptr + i);
          if (k == 0x22 || k == 0x5c) break;
          if (keyLength < MAX_KEY_LENGTH) store<u8>(keyBuffer + <usize>keyLength, <u8>k);
          keyLength = min(keyLength + 1, MAX_KEY_LENGTH + 1);
          i++;
        }
        this.keyLength = keyLength;
        if (i == len) return;
        this.keyByte(<u32>load<u8>(ptr + i));
        i++;
      } else if (state == ST_SKIP) {
        i = this.skip(ptr, i, len);
      } else if (state == ST_KEY_ESCAPE) {
        this.keyByte(c);
        i++;
      } else if (isSpace(c)) {
        i++;
      } else if (state == ST_VALUE) {
        this.startValue(c);
        i++;
      } else if (state == ST_AFTER_VALUE) {
        this.afterValue(c);
        i++;
      } else if (state == ST_KEY_OR_END) {
        if (c == 0x22) {
          this.state = ST_KEY;
          this.keyLength = 0;
        } else if (c == 0x7d) {
          this.closeContainer(KIND_OBJECT);
        } else {
          this.state = ST_ERROR;
        }
        i++;
      } else if (state == ST_COLON) {
        this.state = c == 0x3a ? ST_VALUE : ST_ERROR;
        i++;
      } else {
        return;
      }
    }
  }

  private keyByte(c: u32): void {
    if (this.state == ST_KEY_ESCAPE) {
      this.state = ST_KEY;
      this.keyLength = MAX_KEY_LENGTH + 1;
      return;
    }
    if (c == 0x22) {
      this.pendingKey = this.keyLength <= MAX_KEY_LENGTH
        ? keyIdOf(changetype<usize>(this.keyBuffer), this.keyLength) : 0;
      this.state = ST_COLON;
    } else if (c == 0x5c) {
      this.state = ST_KEY_ESCAPE;
    } else if (this.keyLength < MAX_KEY_LENGTH) {
      unchecked(this.keyBuffer[this.keyLength] = <u8>c);
      this.keyLength++;
    } else {
      this.keyLength = MAX_KEY_LENGTH + 1;
    }
  }

  private startValue(c: u32): void {
    if (c == 0x7b || c == 0x5b) {
      this.openContainer(c == 0x7b ? KIND_OBJECT : KIND_ARRAY);
      return;
    }
    if (c == 0x5d && this.depth > 0 && unchecked(this.kinds[this.depth]) == KIND_ARRAY) {
      this.closeContainer(KIND_ARRAY);
      return;
    }
    this.resolveTarget();
    // Numbers are only assembled for a target, so only then is the number state reset.
    const tracked = this.target != FIELD_NONE;
    this.stringValue = c == 0x22;
    if (c == 0x22) {
      this.state = ST_STRING;
      this.captureLength = 0;
      if (tracked) this.resetNumber();
    } else if ((c >= 0x30 && c <= 0x39) || c == 0x2d) {
      this.state = ST_NUMBER;
      if (tracked) {
        this.resetNumber();
        this.numberByte(c);
      }
    } else if (c >= 0x61 && c <= 0x7a) {
      this.state = ST_LITERAL;
    } else {
      this.state = ST_ERROR;
    }
  }

  private resetNumber(): void {
    this.digits = 0;
    this.sawDigit = false;
    this.stopDigits = false;
    this.numberPart = PART_INTEGER;
    this.negative = false;
    this.fraction = 0;
    this.fractionLength = 0;
    this.droppedDigits = 0;
    this.exponent = 0;
    this.exponentNegative = false;
  }

  private afterValue(c: u32): void {
    const depth = this.depth;
    if (depth == 0) {
      // Another top-level value (newline-delimited JSON): read it as a new document.
      this.startValue(c);
      return;
    }
    const kind = unchecked(this.kinds[depth]);
    if (c == 0x2c) {
      this.state = kind == KIND_OBJECT ? ST_KEY_OR_END : ST_VALUE;
      this.pendingKey = 0;
    } else if (c == 0x7d || c == 0x5d) {
      this.closeContainer(c == 0x7d ? KIND_OBJECT : KIND_ARRAY);
    } else {
      this.state = ST_ERROR;
    }
  }

  /** Scans a skipped container from i; returns where it stopped (after its closing bracket, or len). */
  private skip(ptr: usize, i: usize, len: usize): usize {
    let depth = this.skipDepth;
    let inString = this.skipInString;
    let escape = this.skipEscape;
    while (i < len) {
      if (inString && !escape) {
        i = stringRunEnd(ptr, i, len);
        if (i == len) break;
      }
      const c = <u32>load<u8>(ptr + i);
      i++;
      if (inString) {
        if (escape) escape = false;
        else if (c == 0x5c) escape = true;
        else if (c == 0x22) inString = false;
      } else if (c == 0x22) {
        inString = true;
      } else if (c == 0x7b || c == 0x5b) {
        depth++;
      } else if (c == 0x7d || c == 0x5d) {
        depth--;
        if (depth == 0) {
          this.state = ST_AFTER_VALUE;
          break;
        }
      }
    }
    this.skipDepth = depth;
    this.skipInString = inString;
    this.skipEscape = escape;
    return i;
  }

  /** Whether a container opened at depth (with its key) can hold a usage or model field. */
  private mayHoldTarget(depth: i32, kind: u8, key: u32): bool {
    const first = this.rootDepth + 1;
    if (depth <= first) return true;
    if (kind != KIND_OBJECT || key == 0 || depth > first + 2) return false;
    if (depth == first + 1) return isContainerKey(key);
    return isContainerKey(<u32>unchecked(this.containerKeys[depth - 1])) && isUsageKey(key);
  }

  private openContainer(kind: u8): void {
    const depth = this.depth + 1;
    const key = this.depth > 0 && unchecked(this.kinds[this.depth]) == KIND_OBJECT ? <u32>this.pendingKey : 0;
    if (!this.mayHoldTarget(depth, kind, key)) {
      this.state = ST_SKIP;
      this.skipDepth = 1;
      this.skipInString = false;
      this.skipEscape = false;
      this.pendingKey = 0;
      return;
    }
    if (depth > MAX_DEPTH) {
      this.state = ST_ERROR;
      return;
    }
    const parentIsObject = this.depth > 0 && unchecked(this.kinds[this.depth]) == KIND_OBJECT;
    unchecked(this.kinds[depth] = kind);
    unchecked(this.containerKeys[depth] = parentIsObject ? this.pendingKey : 0);
    this.depth = depth;
    this.pendingKey = 0;
    if (depth == this.rootDepth + 1 && kind == KIND_OBJECT) this.beginDocument();
    this.state = kind == KIND_OBJECT ? ST_KEY_OR_END : ST_VALUE;
  }

  private closeContainer(kind: u8): void {
    const depth = this.depth;
    if (depth == 0 || unchecked(this.kinds[depth]) != kind) {
      this.state = ST_ERROR;
      return;
    }
    if (depth == this.rootDepth + 1 && kind == KIND_OBJECT) this.commitDocument();
    this.depth = depth - 1;
    this.state = ST_AFTER_VALUE;
  }

  private resolveTarget(): void {
    this.target = FIELD_NONE;
    if (this.pendingKey == 0) return;
    const first = this.rootDepth + 1;
    const depth = this.depth;
    if (depth < first || depth - first > 2) return;
    if (unchecked(this.kinds[first]) != KIND_OBJECT || unchecked(this.kinds[depth]) != KIND_OBJECT) return;
    let code: u32 = 0;
    for (let d = first + 1; d <= depth; d++) {
      const key = <u32>unchecked(this.containerKeys[d]);
      if (key == 0) return;
      code = (code << 8) | key;
    }
    if (this.pendingKey == 0) return;
    code = (code << 8) | <u32>this.pendingKey;
    const fieldAndPriority = fieldOfPath(code);
    if (fieldAndPriority < 0) return;
    if (fieldAndPriority >> 3 == FIELD_ID && !this.readsId) return;
    this.target = fieldAndPriority >> 3;
    this.targetPriority = fieldAndPriority & 7;
  }

  private numberByte(c: u32): void {
    if (this.target == FIELD_NONE || this.stopDigits) return;
    const isDigit = c >= 0x30 && c <= 0x39;
    const part = this.numberPart;
    if (part == PART_INTEGER && isDigit) {
      this.sawDigit = true;
      // Digits stop once past the cap (at most 10 × USAGE_CAP + 9, far from wrapping an i64); the
      // rest still count as powers of ten, so that 1234567890123456789e-10 reads 123456789.
      if (this.digits <= USAGE_CAP) this.digits = this.digits * 10 + <i64>(c - 0x30);
      else if (this.droppedDigits < MAX_EXPONENT) this.droppedDigits++;
    } else if (part == PART_FRACTION && isDigit) {
      if (this.fractionLength < MAX_FRACTION_DIGITS) {
        this.fraction = this.fraction * 10 + <i64>(c - 0x30);
        this.fractionLength++;
      }
    } else if (part == PART_EXPONENT && isDigit) {
      if (this.exponent < MAX_EXPONENT) this.exponent = this.exponent * 10 + <i32>(c - 0x30);
    } else if (c == 0x2e && part == PART_INTEGER) {
      this.numberPart = PART_FRACTION;
    } else if ((c == 0x65 || c == 0x45) && part != PART_EXPONENT) {
      this.numberPart = PART_EXPONENT;
    } else if (c == 0x2d && part == PART_EXPONENT) {
      this.exponentNegative = true;
    } else if (c == 0x2d && part == PART_INTEGER && !this.sawDigit) {
      this.negative = true;
    } else if (c != 0x2b) {
      this.stopDigits = true;
    }
  }

  /**
   * The integer value of the number read, truncated toward zero like Higress's lenient conversion,
   * held to [0, USAGE_CAP]: a negative count is 0 (it must never credit a counter or a quota), a
   * larger one (9223372036854775807, 1e30, 1e400) is USAGE_CAP.
   */
  private numberValue(): i64 {
    if (this.negative) return 0;
    let value = this.digits;
    let exponent = (this.exponentNegative ? -this.exponent : this.exponent) + this.droppedDigits;
    // Move fraction digits into the integer part while the exponent allows it (with digits
    // dropped, value is already past the cap and the first step returns).
    let fraction = this.fraction;
    let length = this.fractionLength;
    while (exponent > 0 && (value > 0 || length > 0)) {
      if (value > USAGE_CAP) return USAGE_CAP;
      let next: i64 = 0;
      if (length > 0) {
        let scale: i64 = 1;
        for (let k = 1; k < length; k++) scale *= 10;
        next = fraction / scale;
        fraction = fraction % scale;
        length--;
      }
      value = value * 10 + next;
      exponent--;
    }
    while (exponent < 0 && value > 0) {
      value /= 10;
      exponent++;
    }
    return saturatedCount(value);
  }

  private stringByte(c: u32): void {
    if (this.target == FIELD_MODEL || this.target == FIELD_ID) {
      if (this.captureLength < MAX_MODEL_LENGTH) {
        unchecked(this.capture[this.captureLength] = <u8>c);
        this.captureLength++;
      }
    } else {
      // A count sent as a string ("12") is parsed leniently, as Higress does.
      this.numberByte(c);
    }
  }

  private endScalar(): void {
    const field = this.target;
    this.target = FIELD_NONE;
    if (field == FIELD_NONE) return;
    const priority = this.targetPriority;
    if (priority >= <i32>unchecked(this.docPriorities[field])) return;
    if (field == FIELD_MODEL) {
      unchecked((this.docPriorities[field] = <u8>priority));
      memory.copy(changetype<usize>(this.docModel), changetype<usize>(this.capture), <usize>this.captureLength);
      this.docModelLength = this.captureLength;
      return;
    }
    if (field == FIELD_ID) {
      // A string only: a number's digits were never captured.
      if (!this.stringValue) return;
      unchecked((this.docPriorities[field] = <u8>priority));
      memory.copy(changetype<usize>(this.docId), changetype<usize>(this.capture), <usize>this.captureLength);
      this.docIdLength = this.captureLength;
      return;
    }
    if (!this.sawDigit) return;
    unchecked((this.docPriorities[field] = <u8>priority));
    unchecked(this.docValues[field] = this.numberValue());
  }

  private beginDocument(): void {
    memory.fill(changetype<usize>(this.docPriorities), <u8>NO_PRIORITY, <usize>FIELD_COUNT);
    memory.fill(changetype<usize>(this.docValues), 0, <usize>FIELD_COUNT << 3);
    this.docModelLength = 0;
    this.docIdLength = 0;
  }

  private has(field: i32): bool {
    return <i32>unchecked(this.docPriorities[field]) != NO_PRIORITY;
  }

  /** Applies Higress's per-event rule: missing counts fall back to earlier ones; kept only when total > 0. */
  private commitDocument(): void {
    if (this.has(FIELD_MODEL)) {
      memory.copy(changetype<usize>(this.model), changetype<usize>(this.docModel), <usize>this.docModelLength);
      this.modelLength = this.docModelLength;
    }
    if (this.has(FIELD_ID)) {
      memory.copy(changetype<usize>(this.id), changetype<usize>(this.docId), <usize>this.docIdLength);
      this.idLength = this.docIdLength;
    }
    const input = this.has(FIELD_INPUT) ? unchecked(this.docValues[FIELD_INPUT]) : this.inputTokens;
    const output = this.has(FIELD_OUTPUT) ? unchecked(this.docValues[FIELD_OUTPUT]) : this.outputTokens;
    // Four counts of at most USAGE_CAP each cannot wrap; the sum saturates like each count.
    const total = this.has(FIELD_TOTAL)
      ? unchecked(this.docValues[FIELD_TOTAL])
      : saturatedCount(input + output + unchecked(this.docValues[FIELD_CACHE_CREATION]) + unchecked(this.docValues[FIELD_CACHE_READ]));
    if (total <= 0) return;
    this.found = true;
    this.inputTokens = input;
    this.outputTokens = output;
    this.totalTokens = total;
  }
}
