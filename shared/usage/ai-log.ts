/**
 * The `ai_log` filter state (property `ai_log`, Envoy's `wasm.ai_log`), which Higress's access log
 * prints with `%FILTER_STATE(wasm.ai_log:PLAIN)%` inside a quoted JSON field. As Higress's wasm-go
 * (WriteUserAttributeToLogWithKey), it holds one JSON object written as the contents of a JSON
 * string (`{\"k\":\"v\"}`, no outer quotes), and each writer merges: read it, add its keys (a key
 * it sets replaces the one there), write it back, keys sorted as Go's encoding/json writes a map.
 * Other plugins (ai-statistics, ai-proxy) write it too, so it is read with our own parser, which
 * never traps; a value that is not such an object is left as it is, with a warning, as wasm-go does.
 *
 * Written on every chat, so the usual cases are written straight into one reused byte buffer: no
 * ai_log yet (the first writer), or one whose keys are none of ours (the second AI plugin): our
 * pairs are appended to it as they are, keys in order among themselves. Only a value that already
 * holds one of our keys, or that does not look like a compact object, is parsed and rewritten whole.
 */
import { PropertyPath, getProperty, setProperty, setPropertyAt, logWarn } from "../index";
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

function put(byte: i32): void {
  if (used == scratch.length) {
    const bigger = new Uint8Array(scratch.length * 2);
    bigger.set(scratch);
    scratch = bigger;
  }
  unchecked((scratch[used++] = <u8>byte));
}

const HEX = "0123456789abcdef";

/** `json` (JSON text) as the contents of a JSON string: `"` and `\` escaped, controls as \u00XX, the rest UTF-8. */
function putEscaped(json: string): void {
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c == 0x22 || c == 0x5c) {
      put(0x5c);
      put(c);
    } else if (c < 0x20) {
      put(0x5c);
      put(0x75);
      put(0x30);
      put(0x30);
      put(HEX.charCodeAt(c >> 4));
      put(HEX.charCodeAt(c & 15));
    } else if (c < 0x80) put(c);
    else if (c < 0x800) {
      put(0xc0 | (c >> 6));
      put(0x80 | (c & 63));
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < json.length) {
      // jsonString leaves pairs as they are; lone surrogates cannot occur in its output of valid text.
      const cp = 0x10000 + ((c - 0xd800) << 10) + (json.charCodeAt(++i) - 0xdc00);
      put(0xf0 | (cp >> 18));
      put(0x80 | ((cp >> 12) & 63));
      put(0x80 | ((cp >> 6) & 63));
      put(0x80 | (cp & 63));
    } else {
      put(0xe0 | (c >> 12));
      put(0x80 | ((c >> 6) & 63));
      put(0x80 | (c & 63));
    }
  }
}

/** `\"<key>\":` as it appears inside the stored value: what a key of ours looks like there. */
function keyMarker(key: string): string {
  return '\\"' + key + '\\":';
}

/** True when `key` needs no JSON escaping: printable ASCII without `"`, `\`, `<`, `>`, `&` (which jsonString escapes). */
function plainKey(key: string): bool {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c == 0x22 || c == 0x5c || c == 0x3c || c == 0x3e || c == 0x26) return false;
  }
  return true;
}

/** One plugin's attributes for this stream's `ai_log`; valid while the stream lives. */
export class AiLog {
  private keys: Array<string> = [];
  private values: Array<string> = [];

  string(key: string, value: string): AiLog {
    return this.raw(key, jsonString(value));
  }
  int(key: string, value: i64): AiLog {
    return this.raw(key, value.toString());
  }
  bool(key: string, value: bool): AiLog {
    return this.raw(key, value ? "true" : "false");
  }
  /** `json` is the value's JSON text, compact (a number, literal, object or array as a body had it). */
  json(key: string, json: string): AiLog {
    return this.raw(key, json);
  }

  private raw(key: string, json: string): AiLog {
    const at = this.keys.indexOf(key);
    if (at >= 0) this.values[at] = json;
    else {
      this.keys.push(key);
      this.values.push(json);
    }
    return this;
  }

  /** Our pairs, keys in order, written after `separator` (0: none). */
  private putPairs(separator: i32): void {
    const keys = this.keys;
    const values = this.values;
    // Insertion sort: a handful of keys, and no closure for Array.sort to call.
    for (let i = 1; i < keys.length; i++) {
      const key = unchecked(keys[i]);
      const value = unchecked(values[i]);
      let j = i - 1;
      while (j >= 0 && unchecked(keys[j]) > key) {
        unchecked((keys[j + 1] = keys[j]));
        unchecked((values[j + 1] = values[j]));
        j--;
      }
      unchecked((keys[j + 1] = key));
      unchecked((values[j + 1] = value));
    }
    for (let i = 0; i < keys.length; i++) {
      if (i > 0 || separator != 0) put(0x2c);
      const key = unchecked(keys[i]);
      if (plainKey(key)) {
        // This project's names ([a-z_]): escaped as the value, they need no JSON escaping first.
        put(0x5c);
        put(0x22);
        putEscaped(key);
        put(0x5c);
        put(0x22);
      } else {
        // A key a user configured (ai-statistics' attributes): a JSON string first.
        putEscaped(jsonString(key));
      }
      put(0x3a);
      putEscaped(unchecked(values[i]));
    }
  }

  /** Merges the attributes set so far into the filter state; `plugin` names the warning. */
  write(plugin: string): void {
    if (this.keys.length == 0) return;
    const bytes = getProperty(AI_LOG);
    used = 0;
    if (bytes === null || bytes.byteLength == 0) {
      put(0x7b);
      this.putPairs(0);
      put(0x7d);
    } else {
      const stored = String.UTF8.decode(bytes);
      if (!this.appendable(stored)) return this.rewrite(plugin);
      // The stored bytes without the closing brace (one ASCII byte), then ours: `{}` takes no comma.
      const head = changetype<usize>(bytes);
      for (let i = 0; i < bytes.byteLength - 1; i++) put(load<u8>(head + i));
      this.putPairs(bytes.byteLength > 2 ? 1 : 0);
      put(0x7d);
    }
    setPropertyAt(AI_LOG, scratch.dataStart, used);
  }

  /** A compact object (Go's encoding/json writes one) that holds none of our keys. */
  private appendable(stored: string): bool {
    if (stored.length < 2 || stored.charCodeAt(0) != 0x7b || stored.charCodeAt(stored.length - 1) != 0x7d) return false;
    for (let i = 0; i < this.keys.length; i++) if (stored.indexOf(keyMarker(unchecked(this.keys[i]))) >= 0) return false;
    return true;
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
      const value = ours >= 0 ? unchecked(this.values[ours]) : written(before.get(key)!);
      object += (i > 0 ? "," : "") + jsonString(key) + ":" + value;
    }
    const quoted = jsonString(object + "}");
    setProperty(AI_LOG, String.UTF8.encode(quoted.substring(1, quoted.length - 1)));
  }
}
