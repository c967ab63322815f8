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
import {
  startValue, valueStart, writtenBytes, put, putBytes, putKey, putEscaped, putStringValue, putInt, findMemberStarts, storedHasKey,
} from "./ai-log-bytes";

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

const KIND_STRING: u8 = 0;
const KIND_INT: u8 = 1;
const KIND_BOOL: u8 = 2;
const KIND_JSON: u8 = 3;

/** A plugin's attributes fit from the start; more double the room. */
const INITIAL_ROOM = 16;

/** `from`'s first `count` items in a new array of `room`. */
function grown<T>(from: StaticArray<T>, count: i32, room: i32): StaticArray<T> {
  const to = new StaticArray<T>(room);
  for (let i = 0; i < count; i++) unchecked((to[i] = from[i]));
  return to;
}

/** One plugin's attributes for this stream's `ai_log`; valid while the stream lives. */
export class AiLog {
  // The first `count` of each array, in the order set: a value is a string (string, JSON) or an
  // integer (int, bool), by kind. `order` lists them in key order once sortKeys has run.
  private count: i32 = 0;
  private keys: StaticArray<string> = new StaticArray<string>(INITIAL_ROOM);
  private kinds: StaticArray<u8> = new StaticArray<u8>(INITIAL_ROOM);
  private texts: StaticArray<string> = new StaticArray<string>(INITIAL_ROOM);
  private ints: StaticArray<i64> = new StaticArray<i64>(INITIAL_ROOM);
  private order: StaticArray<i32> = new StaticArray<i32>(INITIAL_ROOM);
  // The keys of the last write that sorted them, and their order (sortKeys).
  private sortedCount: i32 = -1;
  private sortedKeys: StaticArray<string> = new StaticArray<string>(INITIAL_ROOM);
  private sortedOrder: StaticArray<i32> = new StaticArray<i32>(INITIAL_ROOM);

  /** Empty again, keeping its arrays (ai_log's writers reuse one per module: see `aiLog`). */
  clear(): AiLog {
    // A fixed array keeps every item alive: the last stream's values (text from its request) are let go.
    for (let i = 0; i < this.count; i++) unchecked((this.texts[i] = ""));
    this.count = 0;
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

  /** Sets `key`: a key set before gets the new value, a new one is added (ordered at the write). */
  private set(key: string, kind: u8, text: string, int: i64): AiLog {
    const count = this.count;
    const keys = this.keys;
    let entry = count;
    for (let i = 0; i < count; i++) {
      const listed = unchecked(keys[i]);
      // Keys are mostly the plugin's literals: the same object, or another length, answers without a call.
      if (changetype<usize>(listed) == changetype<usize>(key) || (listed.length == key.length && listed == key)) {
        entry = i;
        break;
      }
    }
    if (entry == count) {
      if (count == keys.length) this.grow(count * 2);
      this.count = count + 1;
    }
    unchecked((this.keys[entry] = key));
    unchecked((this.kinds[entry] = kind));
    unchecked((this.texts[entry] = text));
    unchecked((this.ints[entry] = int));
    return this;
  }

  /**
   * `order` for the keys set: their indexes in key order. A plugin sets the same literal keys in
   * the same order on every chat, so the last write's order is kept with its keys and reused when
   * they are the very same strings; else the keys are sorted (insertion sort: a few of them).
   */
  private sortKeys(): void {
    const count = this.count;
    const keys = this.keys;
    const order = this.order;
    if (count == this.sortedCount) {
      let same = true;
      for (let i = 0; i < count; i++) {
        if (changetype<usize>(unchecked(keys[i])) != changetype<usize>(unchecked(this.sortedKeys[i]))) {
          same = false;
          break;
        }
      }
      if (same) {
        for (let i = 0; i < count; i++) unchecked((order[i] = this.sortedOrder[i]));
        return;
      }
    }
    for (let i = 0; i < count; i++) {
      const key = unchecked(keys[i]);
      let at = i;
      while (at > 0 && unchecked(keys[unchecked(order[at - 1])]) > key) {
        unchecked((order[at] = order[at - 1]));
        at--;
      }
      unchecked((order[at] = i));
    }
    if (this.sortedKeys.length < count) {
      this.sortedKeys = new StaticArray<string>(keys.length);
      this.sortedOrder = new StaticArray<i32>(keys.length);
    }
    // Held here, so that no other string can take these addresses while they are compared by them.
    for (let i = 0; i < count; i++) {
      unchecked((this.sortedKeys[i] = keys[i]));
      unchecked((this.sortedOrder[i] = order[i]));
    }
    this.sortedCount = count;
  }

  private grow(room: i32): void {
    const count = this.count;
    this.keys = grown<string>(this.keys, count, room);
    this.kinds = grown<u8>(this.kinds, count, room);
    this.texts = grown<string>(this.texts, count, room);
    this.ints = grown<i64>(this.ints, count, room);
    this.order = grown<i32>(this.order, count, room);
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
   * here, occurs in the first `storedEnd` bytes (a stored value that holds it already).
   */
  private putPairs(separator: i32, storedEnd: i32): bool {
    for (let k = 0; k < this.count; k++) {
      const i = unchecked(this.order[k]);
      if (k > 0 || separator != 0) put(0x2c);
      const keyStart = writtenBytes();
      putKey(unchecked(this.keys[i]));
      // `\"key\":` in the stored value: that key is there already.
      if (storedEnd > 0 && storedHasKey(storedEnd, keyStart)) return false;
      const kind = unchecked(this.kinds[i]);
      if (kind == KIND_STRING) putStringValue(unchecked(this.texts[i]));
      else if (kind == KIND_INT) putInt(unchecked(this.ints[i]));
      else if (kind == KIND_BOOL) putEscaped(unchecked(this.ints[i]) != 0 ? "true" : "false");
      else putEscaped(unchecked(this.texts[i]));
    }
    return true;
  }

  /**
   * The value to store, in the buffer (its first returned-length bytes): the stored one (`size` bytes at `ptr`,
   * 0 for none) with our pairs merged in; -1 when only the general case can merge them.
   */
  encode(ptr: usize, size: i32): i32 {
    this.sortKeys();
    startValue();
    if (size == 0) {
      put(0x7b);
      this.putPairs(0, 0);
      put(0x7d);
      return writtenBytes();
    }
    // A compact object (Go's encoding/json writes one): its bytes without the closing brace (one
    // ASCII byte), then ours; `{}` takes no comma.
    if (size < 2 || load<u8>(ptr) != 0x7b || load<u8>(ptr + <usize>size - 1) != 0x7d) return -1;
    putBytes(ptr, size - 1);
    findMemberStarts(size - 1);
    if (!this.putPairs(size > 2 ? 1 : 0, size - 1)) return -1;
    put(0x7d);
    return writtenBytes();
  }

  /** Merges the attributes set so far into the filter state; `plugin` names the warning. */
  write(plugin: string): void {
    if (this.count == 0) return;
    const stored = borrowProperty(AI_LOG);
    const size = this.encode(stored, stored == 0 ? 0 : <i32>borrowedSize());
    releaseBorrowed(stored);
    if (size < 0) return this.rewrite(plugin);
    setPropertyAt(AI_LOG, valueStart(), size);
  }

  /** The general case: the stored object parsed, our keys replacing its, all written back sorted. */
  private rewrite(plugin: string): void {
    const before = current();
    if (before === null) {
      logWarn(plugin + ": ai_log in filter state is not a JSON object; left as it is");
      return;
    }
    const ours = new Array<string>(this.count);
    for (let i = 0; i < this.count; i++) unchecked((ours[i] = this.keys[i]));
    // `ours` is in the order set, and jsonAt takes that order's index.
    const keys = ours.slice(0);
    for (let i = 0; i < before.keys.length; i++) {
      const key = unchecked(before.keys[i]);
      if (!keys.includes(key)) keys.push(key);
    }
    keys.sort();
    let object = "{";
    for (let i = 0; i < keys.length; i++) {
      const key = unchecked(keys[i]);
      const at = ours.indexOf(key);
      // A repeated key is read as Go reads it: the last one wins.
      const value = at >= 0 ? this.jsonAt(at) : written(before.get(key)!);
      object += (i > 0 ? "," : "") + jsonString(key) + ":" + value;
    }
    const quoted = jsonString(object + "}");
    setProperty(AI_LOG, String.UTF8.encode(quoted.substring(1, quoted.length - 1)));
  }
}

/** The bytes `encode` wrote last, as text (tests). */
export function encodedText(): string {
  return String.UTF8.decodeUnsafe(valueStart(), <usize>writtenBytes());
}

// One stream writes at a time, and a write is done when `write` returns: one log per module serves them all.
const shared = new AiLog();

/** The module's AiLog, emptied: set a stream's attributes on it and `write`, within one callback. */
export function aiLog(): AiLog {
  return shared.clear();
}
