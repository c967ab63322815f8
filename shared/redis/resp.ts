/** Redis RESP2: a command encoder and a decoder of one reply that never traps. */

/** Builds one command as an array of bulk strings (byte lengths, UTF-8). */
export class CommandBuilder {
  private parts: Array<ArrayBuffer> = [];

  arg(value: string): CommandBuilder {
    this.parts.push(String.UTF8.encode(value));
    return this;
  }

  /** An argument already encoded as UTF-8 (e.g. a script encoded once at start-up). */
  bytes(value: ArrayBuffer): CommandBuilder {
    this.parts.push(value);
    return this;
  }

  int(value: i64): CommandBuilder {
    return this.arg(value.toString());
  }

  /** The encoded command: `*N\r\n` then `$len\r\n<bytes>\r\n` per argument. */
  build(): ArrayBuffer {
    let header = "*" + this.parts.length.toString() + "\r\n";
    let size = header.length;
    for (let i = 0; i < this.parts.length; i++) {
      const n = unchecked(this.parts[i]).byteLength;
      size += n.toString().length + 3 + n + 2;
    }
    const out = new ArrayBuffer(size);
    let at = changetype<usize>(out);
    at = writeAscii(at, header);
    for (let i = 0; i < this.parts.length; i++) {
      const part = unchecked(this.parts[i]);
      at = writeAscii(at, "$" + part.byteLength.toString() + "\r\n");
      memory.copy(at, changetype<usize>(part), part.byteLength);
      at = writeAscii(at + part.byteLength, "\r\n");
    }
    return out;
  }
}

function writeAscii(at: usize, text: string): usize {
  for (let i = 0; i < text.length; i++) store<u8>(at + i, <u8>text.charCodeAt(i));
  return at + text.length;
}

/** Encodes a command from its arguments. */
export function encodeCommand(args: Array<string>): ArrayBuffer {
  const builder = new CommandBuilder();
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

export class RespValue {
  kind: RespKind = RespKind.Invalid;
  text: string = "";
  integer: i64 = 0;
  items: Array<RespValue> = [];

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

/** Strict base-10 int64 with an optional sign (Go's strconv.ParseInt rules: no spaces, no overflow). */
export function parseInt64(text: string): ParsedInt {
  let i = 0;
  let negative = false;
  if (text.length > 0 && (text.charCodeAt(0) == 0x2b || text.charCodeAt(0) == 0x2d)) {
    negative = text.charCodeAt(0) == 0x2d;
    i = 1;
  }
  if (i >= text.length) return new ParsedInt(false, 0);
  let value: u64 = 0;
  const limit: u64 = negative ? <u64>9223372036854775808 : <u64>9223372036854775807;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return new ParsedInt(false, 0);
    const digit = <u64>(c - 0x30);
    if (value > (limit - digit) / 10) return new ParsedInt(false, 0);
    value = value * 10 + digit;
  }
  return new ParsedInt(true, negative ? -(<i64>value) : <i64>value);
}

class Decoder {
  pos: i32 = 0;
  constructor(private ptr: usize, private len: i32) {}

  /** The line from pos up to CRLF as text, or null when there is no CRLF. */
  line(): string | null {
    for (let i = this.pos; i + 1 < this.len; i++) {
      if (load<u8>(this.ptr + <usize>i) == 0x0d && load<u8>(this.ptr + <usize>i + 1) == 0x0a) {
        const text = String.UTF8.decodeUnsafe(this.ptr + <usize>this.pos, <usize>(i - this.pos));
        this.pos = i + 2;
        return text;
      }
    }
    return null;
  }

  value(depth: i32): RespValue {
    const bad = new RespValue();
    if (this.pos >= this.len || depth > 32) return bad;
    const type = load<u8>(this.ptr + <usize>this.pos);
    this.pos++;
    const line = this.line();
    if (line === null) return bad;
    const v = new RespValue();
    if (type == 0x2b || type == 0x2d) {
      v.kind = type == 0x2b ? RespKind.SimpleString : RespKind.Error;
      v.text = line;
      return v;
    }
    const n = parseInt64(line);
    if (!n.ok) return bad;
    if (type == 0x3a) {
      v.kind = RespKind.Integer;
      v.integer = n.value;
      return v;
    }
    if (type == 0x24) {
      if (n.value == -1) {
        v.kind = RespKind.Null;
        return v;
      }
      if (n.value < 0 || n.value > <i64>(this.len - this.pos - 2)) return bad;
      const size = <i32>n.value;
      if (load<u8>(this.ptr + <usize>(this.pos + size)) != 0x0d || load<u8>(this.ptr + <usize>(this.pos + size + 1)) != 0x0a) return bad;
      v.kind = RespKind.BulkString;
      v.text = String.UTF8.decodeUnsafe(this.ptr + <usize>this.pos, <usize>size);
      this.pos += size + 2;
      return v;
    }
    if (type == 0x2a) {
      if (n.value == -1) {
        v.kind = RespKind.Null;
        return v;
      }
      if (n.value < 0 || n.value > <i64>this.len) return bad;
      v.kind = RespKind.Array;
      for (let i: i64 = 0; i < n.value; i++) {
        const item = this.value(depth + 1);
        if (item.kind == RespKind.Invalid) return bad;
        v.items.push(item);
      }
      return v;
    }
    return bad;
  }
}

/** Decodes exactly one reply; trailing bytes, truncation or unknown types give Invalid. Never traps. */
export function decodeReply(bytes: ArrayBuffer): RespValue {
  const decoder = new Decoder(changetype<usize>(bytes), bytes.byteLength);
  const value = decoder.value(0);
  if (value.kind != RespKind.Invalid && decoder.pos != bytes.byteLength) return new RespValue();
  return value;
}
