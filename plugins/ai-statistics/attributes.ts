/**
 * One stream's values of the configured `attributes`, as Higress reads them: a fixed value or a
 * header as it is (a missing header is ""), a body path's value (missing is null), and for
 * response_streaming_body one value per SSE event combined by the attribute's rule: `first` and
 * `replace` keep the first or last valid value (present, not null, not ""), `append` joins every
 * event's text. A built-in key tries its fallback paths in turn. An empty value takes
 * default_value; a value longer than value_length_limit keeps its first and last halves around
 * ` [truncated] `.
 */
import { getRequestHeader, getResponseHeader } from "../../shared/index";
import { Attribute, SOURCE_FIXED, SOURCE_REQUEST_HEADER, FIRST, APPEND } from "./config";
import {
  JsonPath, FoundValue, valueAt, lookup, foundValue, rawValue, foundValid, foundString, foundNull, foundStart, foundEnd, foundCount, VALUE_NONE, VALUE_STRING,
} from "./json-path";
import { EventSink, ByteCopy } from "./body-copy";
import { jsonCodePointAt, codePointEnd } from "../../shared/tokens/json-bytes";

const TRUNCATED = " [truncated] ";

/** `text` cut to its first and last limit/2 characters when it is longer than `limit` (Higress's marker between). */
export function truncated(text: string, limit: i32): string {
  if (text.length <= limit) return text;
  const half = limit >> 1;
  return text.substring(0, half) + TRUNCATED + text.substring(text.length - half);
}

/** A fixed value, or a request or response header's first value ("" when absent, as Higress reads it). */
export function headerValue(attribute: Attribute, into: FoundValue): FoundValue {
  if ((attribute.sources & SOURCE_FIXED) != 0) return into.set(VALUE_STRING, attribute.value);
  const value = (attribute.sources & SOURCE_REQUEST_HEADER) != 0 ? getRequestHeader(attribute.value) : getResponseHeader(attribute.value);
  return into.set(VALUE_STRING, value === null ? "" : value);
}

/** The first valid value of `paths` in the body's `size` bytes at ptr; else what the first path found. */
export function bodyValue(ptr: usize, size: i32, paths: Array<JsonPath>, into: FoundValue): FoundValue {
  const first = new FoundValue();
  for (let i = 0; i < paths.length; i++) {
    valueAt(ptr, size, unchecked(paths[i]), into);
    if (into.valid) return into;
    if (i == 0) first.set(into.kind, into.text);
  }
  return into.set(first.kind, first.text);
}

/**
 * Text joined from many events in fixed memory: the first `limit` UTF-16 units, then only the
 * last limit/2 in a ring, so a stream of any length costs at most 1.5 × limit units, and nothing
 * is allocated per event (a string value's characters are decoded straight in).
 */
class Joined {
  private head: StaticArray<u16> = new StaticArray<u16>(0);
  private ring: StaticArray<u16> | null = null;
  private ringAt: i32 = 0;
  private total: i64 = 0;

  constructor(private readonly limit: i32) {}

  private put(unit: u16): void {
    const limit = this.limit;
    if (this.total < <i64>limit) {
      const at = <i32>this.total;
      if (at >= this.head.length) {
        const grown = new StaticArray<u16>(min(limit, max(64, this.head.length * 2)));
        memory.copy(changetype<usize>(grown), changetype<usize>(this.head), <usize>this.head.length << 1);
        this.head = grown;
      }
      unchecked((this.head[at] = unit));
    } else {
      const half = limit >> 1;
      if (half == 0) return;
      let ring = this.ring;
      if (ring === null) {
        // The last half of the head starts the ring.
        ring = new StaticArray<u16>(half);
        memory.copy(changetype<usize>(ring), changetype<usize>(this.head) + (<usize>(limit - half) << 1), <usize>half << 1);
        this.ring = ring;
      }
      unchecked((ring[this.ringAt] = unit));
      this.ringAt = this.ringAt + 1 == half ? 0 : this.ringAt + 1;
    }
    this.total++;
  }

  /** The characters of the JSON string whose bytes (inside its quotes) are [start, end). */
  addJsonString(ptr: usize, start: i32, end: i32): void {
    for (let pos = start; pos < end; pos = codePointEnd) {
      let c = jsonCodePointAt(ptr, pos, end);
      if (c < 0) c = 0xfffd;
      if (c > 0xffff) {
        c -= 0x10000;
        this.put(<u16>(0xd800 + (c >> 10)));
        c = 0xdc00 + (c & 0x3ff);
      }
      this.put(<u16>c);
    }
  }

  add(text: string): void {
    for (let i = 0; i < text.length; i++) this.put(<u16>text.charCodeAt(i));
  }

  text(): string {
    const limit = this.limit;
    if (this.total <= <i64>limit) return unitsOf(changetype<usize>(this.head), <i32>this.total);
    const half = limit >> 1;
    const ring = this.ring;
    let tail = "";
    if (ring !== null) tail = unitsOf(changetype<usize>(ring) + (<usize>this.ringAt << 1), half - this.ringAt) + unitsOf(changetype<usize>(ring), this.ringAt);
    return unitsOf(changetype<usize>(this.head), half) + TRUNCATED + tail;
  }
}

/** A string of the `count` UTF-16 units at ptr. */
function unitsOf(ptr: usize, count: i32): string {
  if (count <= 0) return "";
  const text = changetype<string>(__new(<usize>count << 1, idof<string>()));
  memory.copy(changetype<usize>(text), ptr, <usize>count << 1);
  return text;
}

/** One streaming path's value so far: the raw JSON of the kept value (first, replace), or the joined text (append). */
class StreamedPath {
  kept: ByteCopy = new ByteCopy();
  found: bool = false;
  joined: Joined | null = null;
}

/** The response_streaming_body attributes of one stream, fed event by event. */
export class StreamedValues extends EventSink {
  private states: Array<Array<StreamedPath>> = [];

  constructor(private readonly attributes: Array<Attribute>, private readonly limit: i32) {
    super();
    for (let a = 0; a < attributes.length; a++) {
      const paths = unchecked(attributes[a]).streamPaths;
      const states = new Array<StreamedPath>();
      for (let p = 0; p < paths.length; p++) states.push(new StreamedPath());
      this.states.push(states);
    }
  }

  /** One event's data: each path looked up in place; only what a rule keeps is copied. */
  onEvent(ptr: usize, size: i32): void {
    for (let a = 0; a < this.attributes.length; a++) {
      const attribute = unchecked(this.attributes[a]);
      const paths = attribute.streamPaths;
      const states = unchecked(this.states[a]);
      for (let p = 0; p < paths.length; p++) {
        const state = unchecked(states[p]);
        if (attribute.rule == FIRST && state.found) continue;
        if (!lookup(ptr, size, unchecked(paths[p]))) continue;
        if (attribute.rule == APPEND) {
          let joined = state.joined;
          if (joined === null) state.joined = joined = new Joined(this.limit);
          // gjson's String(): a string's text, null's "", any other value's JSON.
          if (foundString(ptr)) joined.addJsonString(ptr, foundStart + 1, foundEnd - 1);
          else if (!foundNull(ptr)) joined.add(foundValue(ptr, event).text);
        } else if (foundValid(ptr)) {
          state.found = true;
          state.kept.clear();
          if (foundCount >= 0) {
            const count = String.UTF8.encode(foundCount.toString());
            state.kept.append(changetype<usize>(count), count.byteLength);
          } else {
            state.kept.append(ptr + <usize>foundStart, foundEnd - foundStart);
          }
        }
      }
    }
  }

  /** Attribute `a`'s value once the stream ended. */
  valueOf(a: i32, into: FoundValue): FoundValue {
    const attribute = unchecked(this.attributes[a]);
    const states = unchecked(this.states[a]);
    let firstKind = VALUE_NONE;
    let firstText = "";
    for (let p = 0; p < states.length; p++) {
      const state = unchecked(states[p]);
      if (attribute.rule == APPEND) into.set(VALUE_STRING, state.joined === null ? "" : state.joined!.text());
      else if (state.found && !state.kept.overflowed) rawValue(state.kept.ptr, state.kept.length, into);
      else into.set(VALUE_NONE, "");
      if (into.valid) return into;
      if (p == 0) {
        firstKind = into.kind;
        firstText = into.text;
      }
    }
    return into.set(firstKind, firstText);
  }
}

const event = new FoundValue();
