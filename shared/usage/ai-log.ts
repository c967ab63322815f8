/**
 * The `ai_log` filter state (property `ai_log`, Envoy's `wasm.ai_log`), which Higress's access log
 * prints with `%FILTER_STATE(wasm.ai_log:PLAIN)%` inside a quoted JSON field. As Higress's wasm-go
 * (WriteUserAttributeToLogWithKey), it holds one JSON object written as the contents of a JSON
 * string (`{\"k\":\"v\"}`, no outer quotes), and each writer merges: read it, add its keys (a key
 * it sets replaces the one there), write it back, keys sorted as Go's encoding/json writes a map.
 * Other plugins (ai-statistics, ai-proxy) write it too, so it is read with our own parser, which
 * never traps; a value that is not such an object is left as it is, with a warning, as wasm-go does.
 *
 * Written on every chat, so the usual cases allocate nothing: the stored value is read where the
 * host put it and copied into one reused byte buffer, our pairs (numbers as digits, strings
 * escaped twice on the way: for JSON, then for the string that holds it) are written after it,
 * keys in order among themselves, and the buffer is set back. That covers no ai_log yet (the
 * first writer) and one whose keys are none of ours (the second AI plugin). Only a value that
 * already holds one of our keys, or that does not look like a compact object, is parsed and
 * rewritten whole.
 */
import { PropertyPath, getProperty, setProperty, setPropertyAt, borrowProperty, borrowedSize, releaseBorrowed, logWarn } from "../index";
import { parseJson, JsonKind, JsonValue, jsonString } from "../json/index";

const AI_LOG = new PropertyPath(["ai_log"]);

/** `value` as JSON text: numbers as they were written, strings escaped as Go does. */
function written(value: JsonValue): string {
  switch (value.kind) {
    case JsonKind.Null:
      return "null";
    case JsonKind.Bool:
      return value.bool ? "true" : "false";
    case JsonKind.Number:
      return value.text;
    case JsonKind.String:
      return jsonString(value.text);
    case JsonKind.Array: {
      let out = "[";
      for (let i = 0; i < value.items.length; i++) out += (i > 0 ? "," : "") + written(unchecked(value.items[i]));
      return out + "]";
    }
    default: {
      let out = "{";
      for (let i = 0; i < value.keys.length; i++) out += (i > 0 ? "," : "") + jsonString(unchecked(value.keys[i])) + ":" + written(unchecked(value.items[i]));
      return out + "}";
    }
  }
}

/** The object in the filter state now; an empty one when there is none; null when it is no such object. */
function current(): JsonValue | null {
  const bytes = getProperty(AI_LOG);
  if (bytes === null || bytes.byteLength == 0) {
    const empty = new JsonValue();
    empty.kind = JsonKind.Object;
    return empty;
  }
  const outer = parseJson('"' + String.UTF8.decode(bytes) + '"').value;
  if (outer === null || outer.kind != JsonKind.String) return null;
  const inner = parseJson(outer.text).value;
  return inner !== null && inner.kind == JsonKind.Object ? inner : null;
}

/** The value being written, reused by every write (one stream writes at a time). */
let scratch = new Uint8Array(256);
let used: i32 = 0;

/** Room for `extra` more bytes. */
function ensure(extra: i32): void {
  if (used + extra <= scratch.length) return;
  const bigger = new Uint8Array(max(scratch.length * 2, used + extra));
  bigger.set(scratch.subarray(0, used));
  scratch = bigger;
}

function put(byte: i32): void {
  ensure(1);
  unchecked((scratch[used++] = <u8>byte));
}

/** `size` bytes at `ptr`, as they are. */
function putBytes(ptr: usize, size: i32): void {
  ensure(size);
  memory.copy(scratch.dataStart + <usize>used, ptr, <usize>size);
  used += size;
}

// Lower-case hex digits as bytes.
const HEX = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);

/** `\uXXXX` for the UTF-16 unit `c` at `p`; returns the address after it. */
function storeUnicodeEscape(p: usize, c: u32): usize {
  store<u8>(p, 0x5c);
  store<u8>(p + 1, 0x75);
  store<u8>(p + 2, load<u8>(HEX + ((c >> 12) & 15)));
  store<u8>(p + 3, load<u8>(HEX + ((c >> 8) & 15)));
  store<u8>(p + 4, load<u8>(HEX + ((c >> 4) & 15)));
  store<u8>(p + 5, load<u8>(HEX + (c & 15)));
  return p + 6;
}

/**
 * The UTF-16 unit `c` (a high surrogate followed by its low one at `chars + 2` as one code point:
 * strings here are decoded UTF-8 or our own text) as UTF-8 at `p`; `units` is set to how many it took.
 */
let units: i32 = 1;
function storeUtf8(p: usize, c: u32, chars: usize, left: i32): usize {
  units = 1;
  if (c < 0x80) {
    store<u8>(p, <u8>c);
    return p + 1;
  }
  if (c < 0x800) {
    store<u8>(p, <u8>(0xc0 | (c >> 6)));
    store<u8>(p + 1, <u8>(0x80 | (c & 63)));
    return p + 2;
  }
  if (c >= 0xd800 && c < 0xdc00 && left > 1) {
    const cp = 0x10000 + ((c - 0xd800) << 10) + (<u32>load<u16>(chars + 2) - 0xdc00);
    units = 2;
    store<u8>(p, <u8>(0xf0 | (cp >> 18)));
    store<u8>(p + 1, <u8>(0x80 | ((cp >> 12) & 63)));
    store<u8>(p + 2, <u8>(0x80 | ((cp >> 6) & 63)));
    store<u8>(p + 3, <u8>(0x80 | (cp & 63)));
    return p + 4;
  }
  store<u8>(p, <u8>(0xe0 | (c >> 12)));
  store<u8>(p + 1, <u8>(0x80 | ((c >> 6) & 63)));
  store<u8>(p + 2, <u8>(0x80 | (c & 63)));
  return p + 3;
}

/** `json` (JSON text) as the contents of a JSON string: `"` and `\` escaped, controls as \u00XX, the rest UTF-8. */
function putEscaped(json: string): void {
  const length = json.length;
  // At most six bytes per unit (\u00XX); a pair's four bytes are fewer than its two units' six each.
  ensure(length * 6);
  const chars = changetype<usize>(json);
  let p = scratch.dataStart + <usize>used;
  for (let i = 0; i < length; ) {
    const c = <u32>load<u16>(chars + (<usize>i << 1));
    if (c == 0x22 || c == 0x5c) {
      store<u8>(p, 0x5c);
      store<u8>(p + 1, <u8>c);
      p += 2;
      i++;
    } else if (c < 0x20) {
      p = storeUnicodeEscape(p, c);
      i++;
    } else {
      p = storeUtf8(p, c, chars + (<usize>i << 1), length - i);
      i += units;
    }
  }
  used = <i32>(p - scratch.dataStart);
}

/**
 * `text` as a JSON string (jsonString: Go's escapes, `<`, `>`, `&`, U+2028/9 as \u) written as the
 * contents of a JSON string, in one pass: the same bytes as putEscaped(jsonString(text)).
 */
function putEscapedString(text: string): void {
  const length = text.length;
  // At most seven bytes per unit (\\u003c), and the two escaped quotes.
  ensure(length * 7 + 4);
  const chars = changetype<usize>(text);
  let p = scratch.dataStart + <usize>used;
  // The opening quote, escaped: \"
  store<u16>(p, 0x225c);
  p += 2;
  for (let i = 0; i < length; ) {
    const c = <u32>load<u16>(chars + (<usize>i << 1));
    if (c >= 0x20 && c < 0x7f && c != 0x22 && c != 0x5c && c != 0x3c && c != 0x3e && c != 0x26) {
      store<u8>(p++, <u8>c);
      i++;
    } else if (c == 0x22 || c == 0x5c) {
      // \" or \\ in JSON, each of its two characters escaped again.
      store<u16>(p, 0x5c5c);
      store<u8>(p + 2, 0x5c);
      store<u8>(p + 3, <u8>c);
      p += 4;
      i++;
    } else if (c == 0x0a || c == 0x0d || c == 0x09) {
      store<u16>(p, 0x5c5c);
      store<u8>(p + 2, c == 0x0a ? 0x6e : c == 0x0d ? 0x72 : 0x74);
      p += 3;
      i++;
    } else if (c < 0x20 || c == 0x3c || c == 0x3e || c == 0x26 || c == 0x2028 || c == 0x2029) {
      // \uXXXX in JSON: its backslash escaped again.
      store<u8>(p, 0x5c);
      p = storeUnicodeEscape(p + 1, c);
      i++;
    } else {
      p = storeUtf8(p, c, chars + (<usize>i << 1), length - i);
      i += units;
    }
  }
  store<u16>(p, 0x225c);
  used = <i32>(p + 2 - scratch.dataStart);
}

/** Decimal digits of `value`. */
function putInt(value: i64): void {
  let rest = <u64>value;
  if (value < 0) {
    put(0x2d);
    rest = 0 - rest;
  }
  let digits = 1;
  for (let v = rest; v >= 10; v /= 10) digits++;
  ensure(digits);
  let p = used + digits;
  used = p;
  do {
    unchecked((scratch[--p] = <u8>(0x30 + <i32>(rest % 10))));
    rest /= 10;
  } while (rest != 0);
}

// Where the stored object's members may start (after `{` or `,`; a `,` inside a value only adds a
// position where no key matches), found once per write: each of our keys is compared there only.
const MAX_MEMBER_STARTS = 256;
const memberStarts = new StaticArray<i32>(MAX_MEMBER_STARTS);
let memberCount = 0;

/** Finds the member starts of the compact object in scratch[0, to); -1 entries past the cap mean "scan all". */
function findMemberStarts(to: i32): void {
  const base = scratch.dataStart;
  memberCount = 0;
  for (let i = 1; i < to; i++) {
    const before = load<u8>(base + <usize>i - 1);
    if (before != 0x7b && before != 0x2c) continue;
    if (memberCount == MAX_MEMBER_STARTS) {
      memberCount = -1;
      return;
    }
    unchecked((memberStarts[memberCount++] = i));
  }
}

/**
 * True when the key written as `size` bytes at `ptr` (`\"key\":`) is a member of the compact
 * object in scratch[0, to), whose member starts findMemberStarts found.
 */
function storedHasKey(to: i32, ptr: usize, size: i32): bool {
  const base = scratch.dataStart;
  if (memberCount < 0) {
    // More commas than the list holds: every position after `{` or `,` is compared.
    for (let i = 1; i + size <= to; i++) {
      const before = load<u8>(base + <usize>i - 1);
      if ((before == 0x7b || before == 0x2c) && memory.compare(base + <usize>i, ptr, <usize>size) == 0) return true;
    }
    return false;
  }
  for (let k = 0; k < memberCount; k++) {
    const at = unchecked(memberStarts[k]);
    if (at + size <= to && memory.compare(base + <usize>at, ptr, <usize>size) == 0) return true;
  }
  return false;
}

// Keys are the plugins' constants and a few configured names: each is escaped once, and its
// bytes (`\"key\":`) are copied after that. Listed keys are held here, so none of their
// addresses can be reused by another string while it is listed.
const KEY_CACHE = 32;
const cachedKeys = new StaticArray<string | null>(KEY_CACHE);
const cachedKeyBytes = new StaticArray<ArrayBuffer | null>(KEY_CACHE);
let nextCachedKey = 0;

/** `\"key\":` at the end of scratch. */
function putKey(key: string): void {
  for (let i = 0; i < KEY_CACHE; i++) {
    if (changetype<usize>(unchecked(cachedKeys[i])) == changetype<usize>(key)) {
      const bytes = changetype<ArrayBuffer>(unchecked(cachedKeyBytes[i]));
      putBytes(changetype<usize>(bytes), bytes.byteLength);
      return;
    }
  }
  const start = used;
  putEscapedString(key);
  put(0x3a);
  const bytes = new ArrayBuffer(used - start);
  memory.copy(changetype<usize>(bytes), scratch.dataStart + <usize>start, <usize>(used - start));
  unchecked((cachedKeys[nextCachedKey] = key));
  unchecked((cachedKeyBytes[nextCachedKey] = bytes));
  nextCachedKey = (nextCachedKey + 1) % KEY_CACHE;
}

/** An empty array with room for 16 items. */
function reserved<T>(): Array<T> {
  const array = new Array<T>(16);
  array.length = 0;
  return array;
}

const KIND_STRING: u8 = 0;
const KIND_INT: u8 = 1;
const KIND_BOOL: u8 = 2;
const KIND_JSON: u8 = 3;

/** One plugin's attributes for this stream's `ai_log`; valid while the stream lives. */
export class AiLog {
  // Kept in key order; a value is a string (string, JSON) or an integer (int, bool), by kind.
  // Room for a plugin's attributes from the start: growing four arrays key by key cost more than the write.
  private keys: Array<string> = reserved<string>();
  private kinds: Array<u8> = reserved<u8>();
  private texts: Array<string> = reserved<string>();
  private ints: Array<i64> = reserved<i64>();

  /** Empty again, keeping its arrays (ai_log's writers reuse one per module: see `aiLog`). */
  clear(): AiLog {
    this.keys.length = 0;
    this.kinds.length = 0;
    this.texts.length = 0;
    this.ints.length = 0;
    return this;
  }

  string(key: string, value: string): AiLog {
    return this.set(key, KIND_STRING, value, 0);
  }
  int(key: string, value: i64): AiLog {
    return this.set(key, KIND_INT, "", value);
  }
  bool(key: string, value: bool): AiLog {
    return this.set(key, KIND_BOOL, "", value ? 1 : 0);
  }
  /** `json` is the value's JSON text, compact (a number, literal, object or array as a body had it). */
  json(key: string, json: string): AiLog {
    return this.set(key, KIND_JSON, json, 0);
  }

  /** Sets `key`, kept in order (a handful of keys: an insertion, no sort call). */
  private set(key: string, kind: u8, text: string, int: i64): AiLog {
    const keys = this.keys;
    let at = 0;
    while (at < keys.length && unchecked(keys[at]) < key) at++;
    if (at < keys.length && unchecked(keys[at]) == key) {
      unchecked((this.kinds[at] = kind));
      unchecked((this.texts[at] = text));
      unchecked((this.ints[at] = int));
      return this;
    }
    const kinds = this.kinds;
    const texts = this.texts;
    const ints = this.ints;
    keys.push(key);
    kinds.push(kind);
    texts.push(text);
    ints.push(int);
    for (let i = keys.length - 1; i > at; i--) {
      unchecked((keys[i] = keys[i - 1]));
      unchecked((kinds[i] = kinds[i - 1]));
      unchecked((texts[i] = texts[i - 1]));
      unchecked((ints[i] = ints[i - 1]));
    }
    unchecked((keys[at] = key));
    unchecked((kinds[at] = kind));
    unchecked((texts[at] = text));
    unchecked((ints[at] = int));
    return this;
  }

  /** The value at `i` as JSON text (the general case only). */
  private jsonAt(i: i32): string {
    const kind = unchecked(this.kinds[i]);
    if (kind == KIND_STRING) return jsonString(unchecked(this.texts[i]));
    if (kind == KIND_INT) return unchecked(this.ints[i]).toString();
    if (kind == KIND_BOOL) return unchecked(this.ints[i]) != 0 ? "true" : "false";
    return unchecked(this.texts[i]);
  }

  /**
   * Our pairs after `separator` (0: none), keys in order; false when one of our keys, as written
   * here, occurs in scratch[0, storedEnd) (a stored value that holds it already).
   */
  private putPairs(separator: i32, storedEnd: i32): bool {
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) {
      if (i > 0 || separator != 0) put(0x2c);
      const keyStart = used;
      putKey(unchecked(keys[i]));
      // `\"key\":` in the stored value: that key is there already.
      if (storedEnd > 0 && storedHasKey(storedEnd, scratch.dataStart + <usize>keyStart, used - keyStart)) return false;
      const kind = unchecked(this.kinds[i]);
      if (kind == KIND_STRING) putEscapedString(unchecked(this.texts[i]));
      else if (kind == KIND_INT) putInt(unchecked(this.ints[i]));
      else if (kind == KIND_BOOL) putEscaped(unchecked(this.ints[i]) != 0 ? "true" : "false");
      else putEscaped(unchecked(this.texts[i]));
    }
    return true;
  }

  /**
   * The value to store, in scratch[0, returned length): the stored one (`size` bytes at `ptr`,
   * 0 for none) with our pairs merged in; -1 when only the general case can merge them.
   */
  encode(ptr: usize, size: i32): i32 {
    used = 0;
    if (size == 0) {
      put(0x7b);
      this.putPairs(0, 0);
      put(0x7d);
      return used;
    }
    // A compact object (Go's encoding/json writes one): its bytes without the closing brace (one
    // ASCII byte), then ours; `{}` takes no comma.
    if (size < 2 || load<u8>(ptr) != 0x7b || load<u8>(ptr + <usize>size - 1) != 0x7d) return -1;
    putBytes(ptr, size - 1);
    findMemberStarts(size - 1);
    if (!this.putPairs(size > 2 ? 1 : 0, size - 1)) return -1;
    put(0x7d);
    return used;
  }

  /** Merges the attributes set so far into the filter state; `plugin` names the warning. */
  write(plugin: string): void {
    if (this.keys.length == 0) return;
    const stored = borrowProperty(AI_LOG);
    const size = this.encode(stored, stored == 0 ? 0 : <i32>borrowedSize());
    releaseBorrowed(stored);
    if (size < 0) return this.rewrite(plugin);
    setPropertyAt(AI_LOG, scratch.dataStart, size);
  }

  /** The general case: the stored object parsed, our keys replacing its, all written back sorted. */
  private rewrite(plugin: string): void {
    const before = current();
    if (before === null) {
      logWarn(plugin + ": ai_log in filter state is not a JSON object; left as it is");
      return;
    }
    const keys = this.keys.slice(0);
    for (let i = 0; i < before.keys.length; i++) {
      const key = unchecked(before.keys[i]);
      if (!keys.includes(key)) keys.push(key);
    }
    keys.sort();
    let object = "{";
    for (let i = 0; i < keys.length; i++) {
      const key = unchecked(keys[i]);
      const ours = this.keys.indexOf(key);
      // A repeated key is read as Go reads it: the last one wins.
      const value = ours >= 0 ? this.jsonAt(ours) : written(before.get(key)!);
      object += (i > 0 ? "," : "") + jsonString(key) + ":" + value;
    }
    const quoted = jsonString(object + "}");
    setProperty(AI_LOG, String.UTF8.encode(quoted.substring(1, quoted.length - 1)));
  }
}

/** The bytes `encode` wrote last, as text (tests). */
export function encodedText(): string {
  return String.UTF8.decodeUnsafe(scratch.dataStart, <usize>used);
}

// One stream writes at a time, and a write is done when `write` returns: one log per module serves them all.
const shared = new AiLog();

/** The module's AiLog, emptied: set a stream's attributes on it and `write`, within one callback. */
export function aiLog(): AiLog {
  return shared.clear();
}
