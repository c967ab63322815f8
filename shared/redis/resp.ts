/** Redis RESP2: a command encoder and a decoder of one reply that never traps. */
import { decodeUtf8 } from "../text/utf8";

// One reused buffer holds the command being built: the host copies it during proxy_redis_call,
// so once the buffer has grown a request's Redis traffic allocates nothing.
let scratch = new ArrayBuffer(512);

/**
 * Writes one command, `*N\r\n` then `$len\r\n<bytes>\r\n` per argument, straight into the
 * shared buffer. Build, send, done: the next builder overwrites it.
 */
export class CommandBuilder {
  private length: i32 = 0;

  /** `count` is the number of arguments that will follow. */
  constructor(count: i32) {
    this.line(0x2a, count);
  }

  /** The shared builder, emptied, for arguments to encode once and append to commands later with `encoded`. */
  static fragment(): CommandBuilder {
    const builder = SHARED_BUILDER;
    builder.length = 0;
    return builder;
  }

  /** The one shared builder, started afresh on a command of `count` arguments: nothing allocated. */
  static start(count: i32): CommandBuilder {
    const builder = SHARED_BUILDER;
    builder.length = 0;
    builder.line(0x2a, count);
    return builder;
  }

  arg(value: string): CommandBuilder {
    // Commands and keys are ASCII nearly always: copied in one pass, unit by unit, with the
    // length as the size; text with another character is written again as UTF-8.
    const start = this.length;
    const length = value.length;
    const at = this.header(length);
    const chars = changetype<usize>(value);
    let i = 0;
    // Four units at a time while all four are ASCII, narrowed to four bytes.
    while (i + 4 <= length) {
      const units = load<u64>(chars + (<usize>i << 1));
      if ((units & 0xff80ff80ff80ff80) != 0) break;
      store<u32>(at + <usize>i, <u32>((units & 0xff) | ((units >> 8) & 0xff00) | ((units >> 16) & 0xff0000) | ((units >> 24) & 0xff000000)));
      i += 4;
    }
    while (i < length) {
      const c = load<u16>(chars + (<usize>i << 1));
      if (c >= 0x80) break;
      store<u8>(at + <usize>i, <u8>c);
      i++;
    }
    if (i == length) return this.trailer(length);
    this.length = start;
    const size = String.UTF8.byteLength(value);
    String.UTF8.encodeUnsafe(chars, length, this.header(size));
    return this.trailer(size);
  }

  /** An argument already encoded as UTF-8 (e.g. a script encoded once at start-up). */
  bytes(value: ArrayBuffer): CommandBuilder {
    const size = value.byteLength;
    memory.copy(this.header(size), changetype<usize>(value), <usize>size);
    return this.trailer(size);
  }

  /** Encoded bytes and a string as one argument (a key prefix and a value) without joining them first. */
  joined(first: ArrayBuffer, second: string): CommandBuilder {
    const a = first.byteLength;
    const b = String.UTF8.byteLength(second);
    const at = this.header(a + b);
    memory.copy(at, changetype<usize>(first), <usize>a);
    String.UTF8.encodeUnsafe(changetype<usize>(second), second.length, at + <usize>a);
    return this.trailer(a + b);
  }

  /** Arguments encoded beforehand (by `fragment()…build()`), appended as they are. */
  encoded(args: ArrayBuffer): CommandBuilder {
    const size = args.byteLength;
    this.reserve(size);
    memory.copy(changetype<usize>(scratch) + <usize>this.length, changetype<usize>(args), <usize>size);
    this.length += size;
    return this;
  }

  int(value: i64): CommandBuilder {
    const size = decimalLength(value);
    writeDecimal(this.header(size), value);
    return this.trailer(size);
  }

  /** Where the command starts; valid until the next builder. */
  get pointer(): usize {
    return changetype<usize>(scratch);
  }

  get size(): i32 {
    return this.length;
  }

  /** A copy of the command, for callers that keep it. */
  build(): ArrayBuffer {
    const out = new ArrayBuffer(this.length);
    memory.copy(changetype<usize>(out), changetype<usize>(scratch), <usize>this.length);
    return out;
  }

  /** `$size\r\n`, with room reserved for the argument and its CRLF; returns where its bytes go. */
  private header(size: i32): usize {
    this.line(0x24, size);
    this.reserve(size + 2);
    return changetype<usize>(scratch) + <usize>this.length;
  }

  private trailer(size: i32): CommandBuilder {
    this.length += size;
    store<u16>(changetype<usize>(scratch) + <usize>this.length, 0x0a0d);
    this.length += 2;
    return this;
  }

  /** A type byte, a decimal and CRLF. */
  private line(type: u8, value: i64): void {
    this.reserve(24);
    const at = changetype<usize>(scratch) + <usize>this.length;
    store<u8>(at, type);
    const end = writeDecimal(at + 1, value);
    store<u16>(end, 0x0a0d);
    this.length += <i32>(end + 2 - at);
  }

  private reserve(extra: i32): void {
    const needed = this.length + extra;
    if (needed <= scratch.byteLength) return;
    const grown = new ArrayBuffer(max(needed, scratch.byteLength << 1));
    memory.copy(changetype<usize>(grown), changetype<usize>(scratch), <usize>this.length);
    scratch = grown;
  }
}

const SHARED_BUILDER = new CommandBuilder(0);

function digitCount(value: u64): i32 {
  let n = 1;
  while (value >= 10) {
    value /= 10;
    n++;
  }
  return n;
}

/** Characters of `value` in base 10, sign included. */
function decimalLength(value: i64): i32 {
  return value < 0 ? digitCount(0 - <u64>value) + 1 : digitCount(<u64>value);
}

/** Writes `value` in base 10 at `at`; returns the end. */
function writeDecimal(at: usize, value: i64): usize {
  let rest = <u64>value;
  if (value < 0) {
    store<u8>(at++, 0x2d);
    rest = 0 - rest;
  }
  const end = at + <usize>digitCount(rest);
  let p = end;
  do {
    store<u8>(--p, <u8>(0x30 + rest % 10));
    rest /= 10;
  } while (rest != 0);
  return end;
}

/** Encodes a command from its arguments (a copy; the client sends from the shared buffer). */
export function encodeCommand(args: Array<string>): ArrayBuffer {
  const builder = new CommandBuilder(args.length);
  for (let i = 0; i < args.length; i++) builder.arg(unchecked(args[i]));
  return builder.build();
}

export enum RespKind {
  SimpleString,
  Error,
  Integer,
  BulkString,
  Null,
  Array,
  /** Truncated, malformed, or a RESP3-only type. */
  Invalid,
}

// Shared by every value that is not an array, so a scalar reply allocates one object.
const NO_ITEMS = new Array<RespValue>(0);

export class RespValue {
  kind: RespKind = RespKind.Invalid;
  text: string = "";
  integer: i64 = 0;
  /** The elements of an Array; empty (and not to be modified) for any other kind. */
  items: Array<RespValue> = NO_ITEMS;

  static error(message: string): RespValue {
    const v = new RespValue();
    v.kind = RespKind.Error;
    v.text = message;
    return v;
  }

  get isError(): bool {
    return this.kind == RespKind.Error || this.kind == RespKind.Invalid;
  }

  get isNull(): bool {
    return this.kind == RespKind.Null;
  }

  /** Higress's integer-of: an integer, or a string holding a base-10 int64; anything else is 0. */
  toInteger(): i64 {
    if (this.kind == RespKind.Integer) return this.integer;
    if (this.kind == RespKind.BulkString || this.kind == RespKind.SimpleString) {
      const parsed = parseInt64(this.text);
      return parsed.ok ? parsed.value : 0;
    }
    return 0;
  }

  /** Whether toInteger read a real number (not the 0 fallback). */
  isInteger(): bool {
    if (this.kind == RespKind.Integer) return true;
    if (this.kind == RespKind.BulkString || this.kind == RespKind.SimpleString) return parseInt64(this.text).ok;
    return false;
  }
}

export class ParsedInt {
  constructor(public ok: bool, public value: i64) {}
}

// Whether the last readInt64 found a number.
let intValid = false;

/** Character `i` of `ptr`: bytes when `wide` is false, UTF-16 units (an AS string) when true. */
@inline
function charAt(ptr: usize, i: i32, wide: bool): u32 {
  return wide ? <u32>load<u16>(ptr + (<usize>i << 1)) : <u32>load<u8>(ptr + <usize>i);
}

/**
 * Strict base-10 int64 with an optional sign over `count` characters (Go's strconv.ParseInt
 * rules: no spaces, no overflow); `intValid` says whether it was one. Shared by the string and
 * the RESP-bytes readers.
 */
function readInt64(ptr: usize, count: i32, wide: bool): i64 {
  intValid = false;
  let i = 0;
  let negative = false;
  if (count > 0 && (charAt(ptr, 0, wide) == 0x2b || charAt(ptr, 0, wide) == 0x2d)) {
    negative = charAt(ptr, 0, wide) == 0x2d;
    i = 1;
  }
  if (i >= count) return 0;
  let value: u64 = 0;
  const limit: u64 = negative ? <u64>9223372036854775808 : <u64>9223372036854775807;
  for (; i < count; i++) {
    const c = charAt(ptr, i, wide);
    if (c < 0x30 || c > 0x39) return 0;
    const digit = <u64>(c - 0x30);
    if (value > (limit - digit) / 10) return 0;
    value = value * 10 + digit;
  }
  intValid = true;
  return negative ? -(<i64>value) : <i64>value;
}

/** Strict base-10 int64 with an optional sign (Go's strconv.ParseInt rules: no spaces, no overflow). */
export function parseInt64(text: string): ParsedInt {
  const value = readInt64(changetype<usize>(text), text.length, true);
  return new ParsedInt(intValid, value);
}

/**
 * Reads a reply in place, for a caller that expects a shape (an array of integers, say): each call
 * takes the next value if it has the asked-for type, else clears `ok`. Nothing is allocated.
 */
export class RespReader {
  pos: i32 = 0;
  /** False once a value was not what was asked for (or was cut off). */
  ok: bool = true;
  /** Whether the last bulkInt read a null. */
  wasNull: bool = false;
  /** Where the last line() ended its text, and whether integer() found a number there. */
  protected end: i32 = 0;
  protected valid: bool = false;
  constructor(protected ptr: usize, protected len: i32) {}

  /** The one shared reader, set on `size` bytes at `ptr`; valid until the next call. */
  static at(ptr: usize, size: u32): RespReader {
    return SHARED_READER.reset(ptr, <i32>size);
  }

  reset(ptr: usize, len: i32): this {
    this.ptr = ptr;
    this.len = len;
    this.pos = 0;
    this.ok = true;
    this.wasNull = false;
    return this;
  }

  /** The element count of an array header `*n`; -1 when the next value is anything else. */
  array(): i64 {
    const n = this.header(0x2a);
    return this.ok && n >= 0 ? n : -1;
  }

  /** The value of an integer `:n`; 0 when the next value is anything else. */
  int(): i64 {
    return this.header(0x3a);
  }

  /**
   * A bulk string `$n` read as Higress's integer-of: a base-10 int64, or 0 for any other text, and
   * 0 with `wasNull` for a null `$-1`. Clears ok when the next value is not a bulk string.
   */
  bulkInt(): i64 {
    this.wasNull = false;
    const n = this.header(0x24);
    if (!this.ok) return 0;
    if (n == -1) {
      this.wasNull = true;
      return 0;
    }
    const at = this.bulkBody(n);
    if (at < 0) {
      this.ok = false;
      return 0;
    }
    const value = readInt64(this.ptr + <usize>at, <i32>n, false);
    return intValid ? value : 0;
  }

  /**
   * After a bulk string's `$n` line: where its `n` bytes start, moving past them and their CRLF;
   * -1 when they are not all there or the CRLF is missing.
   */
  protected bulkBody(n: i64): i32 {
    if (n < 0 || n > <i64>(this.len - this.pos - 2)) return -1;
    const at = this.pos;
    if (load<u16>(this.ptr + <usize>(at + <i32>n)) != 0x0a0d) return -1;
    this.pos = at + <i32>n + 2;
    return at;
  }

  /** The text of an error reply `-…`; null when the next value is anything else. */
  error(): string | null {
    if (!this.ok || this.pos >= this.len || load<u8>(this.ptr + <usize>this.pos) != 0x2d) return null;
    this.pos++;
    return this.line() ? this.text() : null;
  }

  /** Whether everything asked for was there and the reply has nothing more. */
  get complete(): bool {
    return this.ok && this.pos == this.len;
  }

  /** A value of one-line type `type`: its line as an integer; clears ok on another type or no number. */
  private header(type: u8): i64 {
    if (!this.ok || this.pos >= this.len || load<u8>(this.ptr + <usize>this.pos) != type) {
      this.ok = false;
      return 0;
    }
    this.pos++;
    if (!this.line()) {
      this.ok = false;
      return 0;
    }
    const n = this.integer();
    if (!this.valid) this.ok = false;
    return n;
  }

  /** Finds the CRLF after pos; leaves pos on the line's text and end before its CR. False when there is none. */
  line(): bool {
    for (let i = this.pos; i + 1 < this.len; i++) {
      if (load<u8>(this.ptr + <usize>i) == 0x0d && load<u8>(this.ptr + <usize>i + 1) == 0x0a) {
        this.end = i;
        return true;
      }
    }
    return false;
  }

  /** The line's text as a string; moves past its CRLF. */
  text(): string {
    const text = decodeUtf8(this.ptr + <usize>this.pos, <usize>(this.end - this.pos));
    this.pos = this.end + 2;
    return text;
  }

  /** The line as a strict base-10 int64 (parseInt64's rules, `valid` says whether it was one); moves past its CRLF. */
  integer(): i64 {
    const value = readInt64(this.ptr + <usize>this.pos, this.end - this.pos, false);
    this.valid = intValid;
    this.pos = this.end + 2;
    return value;
  }
}

class Decoder extends RespReader {
  value(depth: i32): RespValue {
    const v = new RespValue();
    if (this.pos >= this.len || depth > 32) return v;
    const type = load<u8>(this.ptr + <usize>this.pos);
    this.pos++;
    if (!this.line()) return v;
    if (type == 0x2b || type == 0x2d) {
      v.kind = type == 0x2b ? RespKind.SimpleString : RespKind.Error;
      v.text = this.text();
      return v;
    }
    const n = this.integer();
    if (!this.valid) return v;
    if (type == 0x3a) {
      v.kind = RespKind.Integer;
      v.integer = n;
      return v;
    }
    if (type == 0x24) {
      if (n == -1) {
        v.kind = RespKind.Null;
        return v;
      }
      const at = this.bulkBody(n);
      if (at < 0) return v;
      v.kind = RespKind.BulkString;
      v.text = decodeUtf8(this.ptr + <usize>at, <usize>n);
      return v;
    }
    if (type == 0x2a) {
      if (n == -1) {
        v.kind = RespKind.Null;
        return v;
      }
      if (n < 0 || n > <i64>this.len) return v;
      const items = new Array<RespValue>();
      for (let i: i64 = 0; i < n; i++) {
        const item = this.value(depth + 1);
        if (item.kind == RespKind.Invalid) return v;
        items.push(item);
      }
      v.kind = RespKind.Array;
      v.items = items;
      return v;
    }
    return v;
  }
}

/** Decodes exactly one reply; trailing bytes, truncation or unknown types give Invalid. Never traps. */
export function decodeReply(bytes: ArrayBuffer): RespValue {
  return decodeReplyAt(changetype<usize>(bytes), <u32>bytes.byteLength);
}

const SHARED_READER = new RespReader(0, 0);
const SHARED_DECODER = new Decoder(0, 0);

/** The same over `size` bytes at `ptr` (a reply read in place). */
export function decodeReplyAt(ptr: usize, size: u32): RespValue {
  const decoder = SHARED_DECODER;
  decoder.reset(ptr, <i32>size);
  const value = decoder.value(0);
  if (value.kind != RespKind.Invalid && decoder.pos != <i32>size) return new RespValue();
  return value;
}
