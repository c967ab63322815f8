/**
 * Higress's attribute paths (gjson syntax, e.g. `messages.@reverse.0.content`), the part this
 * plugin implements: keys, array indexes, `@reverse` (the next index counts from the end, or the
 * next key takes its last occurrence), and `#` last (an array's length). A `\` escapes the next
 * character. Wildcards (`*`, `?`), queries (`#(…)`, `#.key`), pipes and other modifiers are refused
 * at configuration (parsePath), never guessed at.
 *
 * Paths are looked up in the body's bytes where the host put them (no copy, nothing parsed but the
 * way down): from the first `{` or `[`, as gjson starts, so an SSE event's `data: {…}` reads too. A
 * key matches when its bytes equal the path's, and its first occurrence wins, as in gjson.
 */
import { skipSpace, skipValue, readMember, JsonMember, decodeJsonString } from "../../shared/tokens/json-bytes";

const STEP_KEY: i32 = 0;
const STEP_REVERSE: i32 = 1;
const STEP_COUNT: i32 = 2;

/** The key as an array index when it is all digits (at most 9), else -1. */
function indexOf(key: string): i32 {
  if (key.length == 0 || key.length > 9) return -1;
  let index = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    index = index * 10 + (c - 0x30);
  }
  return index;
}

class PathStep {
  /** The key's UTF-8 bytes; an index when it is all digits (on an array). */
  keyBytes: ArrayBuffer;
  index: i32 = -1;
  constructor(public readonly kind: i32, key: string) {
    this.keyBytes = String.UTF8.encode(key);
    this.index = indexOf(key);
  }
}

export class JsonPath {
  steps: Array<PathStep> = [];
  constructor(public readonly text: string) {}
}

/** Why the last parsePath refused its path ("" when it did not). */
export let pathError: string = "";

/** The path's steps; null (and pathError) when it uses syntax this plugin does not implement. */
export function parsePath(text: string): JsonPath | null {
  const path = new JsonPath(text);
  pathError = "";
  if (text.length == 0) {
    pathError = "is empty";
    return null;
  }
  let key = "";
  let escaped = false;
  let plain = true;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (i < text.length && c == 0x5c) {
      // An escaped character is part of the key, whatever it is.
      if (i + 1 >= text.length) {
        pathError = "ends with a lone \\";
        return null;
      }
      key += text.charAt(++i);
      escaped = true;
      continue;
    }
    if (c != 0x2e) {
      if (c == 0x2a || c == 0x3f || c == 0x7c || c == 0x28 || c == 0x29 || c == 0x21 || c == 0x3d) plain = false;
      key += text.charAt(i);
      continue;
    }
    if (!addStep(path, key, escaped, plain, i == text.length)) return null;
    key = "";
    escaped = false;
    plain = true;
  }
  return path;
}

function addStep(path: JsonPath, key: string, escaped: bool, plain: bool, last: bool): bool {
  if (key.length == 0) {
    pathError = "has an empty part";
    return false;
  }
  if (!plain) {
    pathError = "uses wildcards, queries or pipes (*, ?, #(…), |), which are not supported";
    return false;
  }
  if (!escaped && key == "@reverse") {
    path.steps.push(new PathStep(STEP_REVERSE, key));
    return true;
  }
  if (!escaped && key.charCodeAt(0) == 0x40) {
    pathError = "uses the modifier " + key + ", which is not supported (only @reverse is)";
    return false;
  }
  if (!escaped && key.charCodeAt(0) == 0x23) {
    if (key != "#" || !last) {
      pathError = "uses # other than last (an array's length), which is not supported";
      return false;
    }
    path.steps.push(new PathStep(STEP_COUNT, key));
    return true;
  }
  path.steps.push(new PathStep(STEP_KEY, key));
  return true;
}

/** What the last lookup found: the value's bytes [foundStart, foundEnd), or foundCount for `#`. */
export let foundStart: i32 = -1;
export let foundEnd: i32 = -1;
/** The length `#` read, or -1 when the path ends in a value. */
export let foundCount: i32 = -1;

const member = new JsonMember();

/** The first `{` or `[` of the `size` bytes at ptr, or -1. */
function documentStart(ptr: usize, size: i32): i32 {
  for (let i = 0; i < size; i++) {
    const c = load<u8>(ptr + <usize>i);
    if (c == 0x7b || c == 0x5b) return i;
  }
  return -1;
}

/** The offset of the value of the member whose key bytes are `key` in the object at pos (its `{`), or -1; the last one with `last`. */
export function memberValue(ptr: usize, end: i32, pos: i32, key: ArrayBuffer, last: bool): i32 {
  let at = skipSpace(ptr, end, pos + 1);
  if (at >= end || load<u8>(ptr + <usize>at) == 0x7d) return -1;
  let found = -1;
  while (readMember(ptr, end, at, member)) {
    const length = member.keyEnd - member.keyStart;
    if (length == key.byteLength && memory.compare(ptr + <usize>member.keyStart, changetype<usize>(key), <usize>length) == 0) {
      found = member.valueStart;
      if (!last) return found;
    }
    if (load<u8>(ptr + <usize>member.next) != 0x2c) break;
    at = member.next + 1;
  }
  return found;
}

/** The offset of element `index` of the array at pos (its `[`), or -1 when it has fewer; with `index` -1, the length (as -2 - length). */
export function elementAt(ptr: usize, end: i32, pos: i32, index: i32): i32 {
  let at = skipSpace(ptr, end, pos + 1);
  let count = 0;
  if (at < end && load<u8>(ptr + <usize>at) == 0x5d) return index < 0 ? -2 : -1;
  while (at < end) {
    if (count == index) return at;
    const valueEnd = skipValue(ptr, end, at);
    if (valueEnd < 0) return -1;
    count++;
    at = skipSpace(ptr, end, valueEnd);
    if (at >= end || load<u8>(ptr + <usize>at) != 0x2c) break;
    at = skipSpace(ptr, end, at + 1);
  }
  return index < 0 ? -2 - count : -1;
}

/** The number of elements of the array at pos. */
function lengthOf(ptr: usize, end: i32, pos: i32): i32 {
  return -2 - elementAt(ptr, end, pos, -1);
}

/** Looks `path` up in the `size` bytes at ptr; true when found (foundStart/foundEnd or foundCount say where). */
export function lookup(ptr: usize, size: i32, path: JsonPath): bool {
  foundCount = -1;
  let pos = documentStart(ptr, size);
  if (pos < 0) return false;
  let reverse = false;
  const steps = path.steps;
  for (let i = 0; i < steps.length; i++) {
    const step = unchecked(steps[i]);
    const c = load<u8>(ptr + <usize>pos);
    if (step.kind == STEP_REVERSE) {
      if (c != 0x5b && c != 0x7b) return false;
      reverse = true;
      continue;
    }
    if (step.kind == STEP_COUNT) {
      if (c != 0x5b) return false;
      foundCount = lengthOf(ptr, size, pos);
      return true;
    }
    if (c == 0x7b) pos = memberValue(ptr, size, pos, step.keyBytes, reverse);
    else if (c == 0x5b && step.index >= 0) pos = elementAt(ptr, size, pos, reverse ? lengthOf(ptr, size, pos) - 1 - step.index : step.index);
    else return false;
    reverse = false;
    if (pos < 0) return false;
  }
  foundStart = pos;
  foundEnd = skipValue(ptr, size, pos);
  return foundEnd > pos;
}

/** A value found by a lookup, as the ai_log writes it. */
export const VALUE_NONE: i32 = 0;
/** JSON null (gjson's nil, as a missing path). */
export const VALUE_NULL: i32 = 1;
/** A string: `text` is its decoded text. */
export const VALUE_STRING: i32 = 2;
/** A number, a literal, an object or an array: `text` is its JSON, whitespace outside strings removed. */
export const VALUE_JSON: i32 = 3;

export class FoundValue {
  kind: i32 = VALUE_NONE;
  text: string = "";

  /** Present, not null and not the empty string: what `first`, `replace`, the built-in fallbacks and default_value call a value. */
  get valid(): bool {
    return this.kind == VALUE_JSON || (this.kind == VALUE_STRING && this.text.length > 0);
  }

  set(kind: i32, text: string): FoundValue {
    this.kind = kind;
    this.text = text;
    return this;
  }
}

/** The JSON text of the bytes [start, end) without whitespace outside strings. */
function compactJson(ptr: usize, start: i32, end: i32): string {
  const out = new Array<string>();
  let run = start;
  let at = start;
  while (at < end) {
    const c = load<u8>(ptr + <usize>at);
    if (c == 0x22) {
      let next = at + 1;
      while (next < end) {
        const s = load<u8>(ptr + <usize>next);
        if (s == 0x5c) next += 2;
        else if (s == 0x22) break;
        else next++;
      }
      at = next + 1;
      continue;
    }
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) {
      if (at > run) out.push(String.UTF8.decodeUnsafe(ptr + <usize>run, <usize>(at - run)));
      run = at + 1;
    }
    at++;
  }
  if (end > run) out.push(String.UTF8.decodeUnsafe(ptr + <usize>run, <usize>(end - run)));
  return out.join("");
}

/** The value of the last successful lookup on the bytes at ptr, into `into`. */
export function foundValue(ptr: usize, into: FoundValue): FoundValue {
  if (foundCount >= 0) return into.set(VALUE_JSON, foundCount.toString());
  const first = load<u8>(ptr + <usize>foundStart);
  if (first == 0x22) return into.set(VALUE_STRING, decodeJsonString(ptr, foundStart + 1, foundEnd - 1));
  if (first == 0x6e && foundEnd - foundStart == 4) return into.set(VALUE_NULL, "");
  return into.set(VALUE_JSON, compactJson(ptr, foundStart, foundEnd));
}

/** The value whose JSON is the `size` bytes at ptr (kept from an earlier lookup), into `into`. */
export function rawValue(ptr: usize, size: i32, into: FoundValue): FoundValue {
  if (size <= 0) return into.set(VALUE_NONE, "");
  foundCount = -1;
  foundStart = 0;
  foundEnd = size;
  return foundValue(ptr, into);
}

/** Whether the last successful lookup found a valid value (present, not null, not ""), without decoding it. */
export function foundValid(ptr: usize): bool {
  if (foundCount >= 0) return true;
  const first = load<u8>(ptr + <usize>foundStart);
  if (first == 0x22) return foundEnd - foundStart > 2;
  return !(first == 0x6e && foundEnd - foundStart == 4);
}

/** Whether the last successful lookup found a string (then its text is the bytes [foundStart + 1, foundEnd - 1)). */
export function foundString(ptr: usize): bool {
  return foundCount < 0 && load<u8>(ptr + <usize>foundStart) == 0x22;
}

/** Whether the last successful lookup found null. */
export function foundNull(ptr: usize): bool {
  return foundCount < 0 && load<u8>(ptr + <usize>foundStart) == 0x6e && foundEnd - foundStart == 4;
}

/** Looks `path` up and puts what it found (VALUE_NONE when nothing) into `into`. */
export function valueAt(ptr: usize, size: i32, path: JsonPath, into: FoundValue): FoundValue {
  if (!lookup(ptr, size, path)) return into.set(VALUE_NONE, "");
  return foundValue(ptr, into);
}
