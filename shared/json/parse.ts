/** A non-throwing JSON parser for configuration: every failure is a message with its offset. */
import { JsonKind, JsonValue } from "./value";
import { decimalValue } from "./number";

/** Deeper nesting is refused, so hostile input cannot exhaust the stack. */
const MAX_DEPTH: i32 = 64;
/** A key longer than this is cut in the path of a nesting error. */
const PATH_KEY_CHARS: i32 = 40;

export class JsonParseResult {
  /** `tooDeep`: the text nests past MAX_DEPTH; `error` then starts with the path where it was cut. */
  constructor(public value: JsonValue | null, public error: string, public tooDeep: bool = false) {}
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  /** Set when nesting passed MAX_DEPTH; `path` then grows, innermost first, as the parse unwinds. */
  tooDeep: bool = false;
  path: string = "";

  constructor(private text: string) {}

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) this.error = message + " at offset " + this.pos.toString();
    return null;
  }

  /** On the way out of a failed member or item: adds its key or index to the path of a nesting error. */
  within(segment: string): JsonValue | null {
    if (!this.tooDeep) return null;
    const joined = this.path.length == 0 || this.path.startsWith("[") ? "" : ".";
    this.path = segment + joined + this.path;
    return null;
  }

  unexpected(): JsonValue | null {
    if (this.pos >= this.text.length) return this.fail("unexpected end of input");
    return this.fail("unexpected character '" + this.text.charAt(this.pos) + "'");
  }

  skipSpace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      this.pos++;
    }
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) {
      if (this.error.length == 0) this.tooDeep = true;
      return this.fail("nesting deeper than " + MAX_DEPTH.toString());
    }
    this.skipSpace();
    if (this.pos >= this.text.length) return this.unexpected();
    const c = this.text.charCodeAt(this.pos);
    if (c == 0x7b) return this.object(depth);
    if (c == 0x5b) return this.array(depth);
    if (c == 0x22) {
      const s = this.string();
      if (s === null) return null;
      const v = new JsonValue();
      v.kind = JsonKind.String;
      v.text = s;
      return v;
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (this.literal("true")) return boolValue(true);
    if (this.literal("false")) return boolValue(false);
    if (this.literal("null")) return JsonValue.null();
    return this.unexpected();
  }

  literal(word: string): bool {
    if (this.text.substr(this.pos, word.length) != word) return false;
    this.pos += word.length;
    return true;
  }

  object(depth: i32): JsonValue | null {
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    this.pos++;
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.skipSpace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x22) return this.unexpected();
      const key = this.string();
      if (key === null) return null;
      this.skipSpace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 0x3a) return this.unexpected();
      this.pos++;
      const item = this.value(depth + 1);
      if (item === null) return this.within(key.slice(0, PATH_KEY_CHARS));
      v.keys.push(key);
      v.items.push(item);
      this.skipSpace();
      if (this.pos >= this.text.length) return this.unexpected();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c == 0x7d) return v;
      if (c != 0x2c) {
        this.pos--;
        return this.unexpected();
      }
    }
    return null;
  }

  array(depth: i32): JsonValue | null {
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    this.pos++;
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return this.within("[" + v.items.length.toString() + "]");
      v.items.push(item);
      this.skipSpace();
      if (this.pos >= this.text.length) return this.unexpected();
      const c = this.text.charCodeAt(this.pos);
      this.pos++;
      if (c == 0x5d) return v;
      if (c != 0x2c) {
        this.pos--;
        return this.unexpected();
      }
    }
    return null;
  }

  /** Reads a string starting at the opening quote; null (with an error) when malformed. */
  string(): string | null {
    const t = this.text;
    this.pos++;
    let out = "";
    let start = this.pos;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c == 0x22) {
        out += t.substring(start, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail("control character in string");
        return null;
      }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      out += t.substring(start, this.pos);
      this.pos++;
      if (this.pos >= t.length) break;
      const e = t.charCodeAt(this.pos);
      this.pos++;
      if (e == 0x22) out += '"';
      else if (e == 0x5c) out += "\\";
      else if (e == 0x2f) out += "/";
      else if (e == 0x62) out += "\b";
      else if (e == 0x66) out += "\f";
      else if (e == 0x6e) out += "\n";
      else if (e == 0x72) out += "\r";
      else if (e == 0x74) out += "\t";
      else if (e == 0x75) {
        const code = this.hex4();
        if (code < 0) return null;
        out += String.fromCharCode(code);
      } else {
        this.pos--;
        this.fail("invalid escape '\\" + t.charAt(this.pos) + "'");
        return null;
      }
      start = this.pos;
    }
    this.fail("unterminated string");
    return null;
  }

  hex4(): i32 {
    if (this.pos + 4 > this.text.length) {
      this.fail("truncated \\u escape");
      return -1;
    }
    let code = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.text.charCodeAt(this.pos + i);
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      if (d < 0) {
        this.fail("invalid \\u escape");
        return -1;
      }
      code = code * 16 + d;
    }
    this.pos += 4;
    // Surrogate pairs arrive as two escapes; UTF-16 code units concatenate into the right string.
    return code;
  }

  number(): JsonValue | null {
    const t = this.text;
    const start = this.pos;
    if (t.charCodeAt(this.pos) == 0x2d) this.pos++;
    // JSON allows no leading zeros: "0" stands alone.
    if (this.pos < t.length && t.charCodeAt(this.pos) == 0x30) {
      this.pos++;
      if (this.pos < t.length && t.charCodeAt(this.pos) >= 0x30 && t.charCodeAt(this.pos) <= 0x39) return this.unexpected();
    } else if (!this.digits()) return this.unexpected();
    if (this.pos < t.length && t.charCodeAt(this.pos) == 0x2e) {
      this.pos++;
      if (!this.digits()) return this.unexpected();
    }
    if (this.pos < t.length && (t.charCodeAt(this.pos) == 0x65 || t.charCodeAt(this.pos) == 0x45)) {
      this.pos++;
      if (this.pos < t.length && (t.charCodeAt(this.pos) == 0x2b || t.charCodeAt(this.pos) == 0x2d)) this.pos++;
      if (!this.digits()) return this.unexpected();
    }
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.text = t.substring(start, this.pos);
    v.num = decimalValue(v.text);
    return v;
  }

  digits(): bool {
    const start = this.pos;
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c < 0x30 || c > 0x39) break;
      this.pos++;
    }
    return this.pos > start;
  }
}

function boolValue(b: bool): JsonValue {
  const v = new JsonValue();
  v.kind = JsonKind.Bool;
  v.bool = b;
  return v;
}

/** Parses a whole document; trailing characters other than whitespace are an error. Never traps. */
export function parseJson(text: string): JsonParseResult {
  const parser = new Parser(text);
  const value = parser.value(0);
  if (value === null) {
    // The path is never empty: the top value is at depth 0.
    if (parser.tooDeep) return new JsonParseResult(null, parser.path + ": " + parser.error, true);
    return new JsonParseResult(null, parser.error);
  }
  parser.skipSpace();
  if (parser.pos < text.length) {
    parser.unexpected();
    return new JsonParseResult(null, parser.error);
  }
  return new JsonParseResult(value, "");
}
