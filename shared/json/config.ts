/**
 * Reading plugin configuration with errors that name the JSON path, what was expected and what
 * was found (decision G7), and warnings for keys nobody read:
 *
 *   const r = new ConfigReader("key-auth");
 *   const root = r.root(json);
 *   const keys = root.stringListOrOne("keys");          // null + error when wrong
 *   if (keys === null) r.fail("keys is required");       // Higress's own words
 *   for (const c of root.objectList("consumers")) c.string("name");
 *   root.done();                                         // unknown keys → warnings
 *   if (r.failed) { logError(r.error); return false; }
 */
import { JsonKind, JsonValue } from "./value";
import { decimalValue } from "./number";

/**
 * 2^53 - 1, the largest integer every number on the way holds exactly: Redis keeps i64, but a Lua
 * script (EVAL) reads numbers as doubles, so 2^53 + 1 would be counted as 2^53.
 */
export const MAX_EXACT_INTEGER: i64 = 9007199254740991;

export class ConfigReader {
  /** The first rejection, prefixed with the plugin name; "" while none. */
  error: string = "";
  /**
   * Whether that rejection is one Higress would not make (a value it takes, such as a count past
   * 2^53 - 1, that we refuse): the config cannot be given Higress's meaning, so it must fail even
   * where Higress drops a bad global config and keeps its `_rules_`.
   */
  beyondHigress: bool = false;
  warnings: Array<string> = [];

  constructor(public readonly plugin: string) {}

  get failed(): bool {
    return this.error.length > 0;
  }

  /** Records a rejection; only the first one is kept (Higress stops at the first too). */
  fail(message: string): void {
    if (this.error.length == 0) this.error = this.plugin + ": " + message;
  }

  /** A rejection Higress would not make (see beyondHigress). */
  refuse(message: string): void {
    if (this.error.length == 0) this.beyondHigress = true;
    this.fail(message);
  }

  warn(message: string): void {
    this.warnings.push(this.plugin + ": " + message);
  }

  /** The top-level object; a non-object is an error. */
  root(value: JsonValue): ConfigObject {
    if (value.kind != JsonKind.Object) this.fail("configuration must be a JSON object, got " + value.describe());
    return new ConfigObject(this, value, "");
  }
}

/** One JSON object being read; remembers which keys were read so the rest can be reported. */
export class ConfigObject {
  private read: Array<string> = [];

  constructor(readonly reader: ConfigReader, readonly value: JsonValue, readonly path: string) {}

  /** The JSON path of a member, e.g. `redis.service_name` or `consumers[1].name`. */
  pathOf(key: string): string {
    return this.path.length == 0 ? key : this.path + "." + key;
  }

  /** The raw member (null when absent), marked as read. */
  member(key: string): JsonValue | null {
    if (!this.read.includes(key)) this.read.push(key);
    return this.value.get(key);
  }

  has(key: string): bool {
    return this.value.get(key) !== null;
  }

  private wrong(key: string, expected: string, found: JsonValue): void {
    this.reader.fail(this.pathOf(key) + " must be " + expected + ", got " + found.describe());
  }

  /** A string member; null when absent (or null), and an error when present with another type. */
  string(key: string): string | null {
    const v = this.member(key);
    if (v === null || v.kind == JsonKind.Null) return null;
    if (v.kind != JsonKind.String) {
      this.wrong(key, "a string", v);
      return null;
    }
    return v.text;
  }

  /** A bool member as 1 (true), 0 (false) or -1 (absent); unset and false differ in Higress. */
  bool(key: string): i32 {
    const v = this.member(key);
    if (v === null || v.kind == JsonKind.Null) return -1;
    if (v.kind != JsonKind.Bool) {
      this.wrong(key, "true or false", v);
      return -1;
    }
    return v.bool ? 1 : 0;
  }

  /** Like bool, but also "true"/"false" strings and numbers (non-zero is true), as Higress's gjson. */
  lenientBool(key: string): i32 {
    const v = this.member(key);
    if (v === null || v.kind == JsonKind.Null) return -1;
    if (v.kind == JsonKind.Bool) return v.bool ? 1 : 0;
    if (v.kind == JsonKind.Number) return v.num != 0 ? 1 : 0;
    if (v.kind == JsonKind.String && (v.text == "true" || v.text == "false")) return v.text == "true" ? 1 : 0;
    this.wrong(key, "true or false", v);
    return -1;
  }

  /**
   * The member's number as `int` reads it, truncated toward zero; NaN when absent, null or not a
   * number (nothing is reported: `int` says what is wrong). For a check made before `int`, e.g.
   * Higress's own words for a value that must be positive.
   */
  integerPart(key: string, lenient: bool = false): f64 {
    const v = this.value.get(key);
    if (v === null) return NaN;
    let n: f64 = NaN;
    if (v.kind == JsonKind.Number && (lenient || v.isInteger())) n = v.num;
    else if (lenient && v.kind == JsonKind.String && isNumeric(v.text)) n = decimalValue(v.text);
    return n < 0 ? Math.ceil(n) : Math.floor(n);
  }

  /**
   * An integer member within [min, max]; `absent` when missing. Wrong types and fractions are errors.
   * With `lenient`, a numeric string ("100") and a fraction (10.9 → 10) are accepted, as Higress.
   * Whatever the caller asks, the range never goes past ±MAX_EXACT_INTEGER (G7): every integer a
   * plugin configures reaches Redis or a Lua script, whose numbers are doubles.
   */
  int(key: string, absent: i64, min: i64, max: i64, lenient: bool = false): i64 {
    const v = this.member(key);
    if (v === null || v.kind == JsonKind.Null) return absent;
    const n = this.integerPart(key, lenient);
    if (isNaN(n)) {
      this.wrong(key, "an integer", v);
      return absent;
    }
    const low = min < -MAX_EXACT_INTEGER ? -MAX_EXACT_INTEGER : min;
    const high = max > MAX_EXACT_INTEGER ? MAX_EXACT_INTEGER : max;
    // Compared as doubles, before any conversion: 1e19 or 1e300 must not saturate into range.
    if (!(n >= <f64>low && n <= <f64>high)) {
      // Higress takes any integer here (or says so in its own words first).
      this.reader.refuse(this.pathOf(key) + " must be between " + low.toString() + " and " + high.toString() + ", got " + v.describe());
      return absent;
    }
    return <i64>n;
  }

  /** A nested object; null when absent, an error when present with another type. */
  object(key: string): ConfigObject | null {
    const v = this.member(key);
    if (v === null || v.kind == JsonKind.Null) return null;
    if (v.kind != JsonKind.Object) {
      this.wrong(key, "an object", v);
      return null;
    }
    return new ConfigObject(this.reader, v, this.pathOf(key));
  }

  /** The raw array member; null when absent, an error when present with another type. */
  array(key: string): JsonValue | null {
    const v = this.member(key);
    if (v === null || v.kind == JsonKind.Null) return null;
    if (v.kind != JsonKind.Array) {
      this.wrong(key, "a list", v);
      return null;
    }
    return v;
  }

  /** An array of objects; null when absent. An item of another type is an error naming its index. */
  objectList(key: string): Array<ConfigObject> | null {
    const v = this.array(key);
    if (v === null) return null;
    const out = new Array<ConfigObject>();
    for (let i = 0; i < v.items.length; i++) {
      const item = unchecked(v.items[i]);
      const path = this.pathOf(key) + "[" + i.toString() + "]";
      if (item.kind != JsonKind.Object) {
        this.reader.fail(path + " must be an object, got " + item.describe());
        return out;
      }
      out.push(new ConfigObject(this.reader, item, path));
    }
    return out;
  }

  /** An array of strings; null when absent. With `acceptOne`, a lone string is a one-item list (Higress). */
  stringList(key: string, acceptOne: bool = false): Array<string> | null {
    const v = this.member(key);
    if (v === null || v.kind == JsonKind.Null) return null;
    if (acceptOne && v.kind == JsonKind.String) return [v.text];
    if (v.kind != JsonKind.Array) {
      this.wrong(key, "a list of strings", v);
      return null;
    }
    const out = new Array<string>();
    for (let i = 0; i < v.items.length; i++) {
      const item = unchecked(v.items[i]);
      if (item.kind != JsonKind.String) {
        this.reader.fail(this.pathOf(key) + "[" + i.toString() + "] must be a string, got " + item.describe());
        return null;
      }
      out.push(item.text);
    }
    return out;
  }

  /** Marks keys read elsewhere (e.g. `_rules_` handled by the rule matcher). */
  skip(key: string): void {
    if (!this.read.includes(key)) this.read.push(key);
  }

  /** Warns about every key that was never read (G7: ignored, but said). */
  done(): void {
    const keys = this.value.keys;
    for (let i = 0; i < keys.length; i++) {
      const key = unchecked(keys[i]);
      if (!this.read.includes(key)) this.reader.warn("unknown key '" + key + "' at " + this.pathOf(key) + " ignored");
    }
  }
}

function isNumeric(text: string): bool {
  if (text.length == 0) return false;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) digits++;
    else if (!(c == 0x2d && i == 0) && c != 0x2e) return false;
  }
  return digits > 0;
}
