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
import { Attribute, SOURCE_FIXED, SOURCE_REQUEST_HEADER, FIRST, REPLACE, APPEND } from "./config";
import { JsonPath, FoundValue, valueAt, VALUE_NONE, VALUE_STRING, VALUE_NULL } from "./json-path";
import { EventSink } from "./body-copy";

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

/** Text joined from many events, holding at most about twice `limit` characters however long the stream. */
class Joined {
  private parts: Array<string> = [];
  private length: i32 = 0;
  /** The first half, once the text went past the limit; then `parts` holds its latest characters. */
  private head: string | null = null;

  add(piece: string, limit: i32): void {
    if (piece.length == 0) return;
    this.parts.push(piece);
    this.length += piece.length;
    if (this.length <= limit) return;
    const half = limit >> 1;
    if (this.head === null) {
      const all = this.parts.join("");
      this.head = all.substring(0, half);
      this.parts = [all.substring(half)];
      this.length = all.length - half;
    }
    if (this.length > limit + half) {
      const tail = this.parts.join("");
      this.parts = [tail.substring(tail.length - half)];
      this.length = half;
    }
  }

  text(limit: i32): string {
    const joined = this.parts.join("");
    if (this.head === null) return joined;
    return this.head! + TRUNCATED + joined.substring(joined.length - (limit >> 1));
  }
}

/** One streaming path's value so far. */
class StreamedPath {
  found: FoundValue = new FoundValue();
  joined: Joined | null = null;
}

const event = new FoundValue();

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

  /** One event's data. */
  onEvent(ptr: usize, size: i32): void {
    for (let a = 0; a < this.attributes.length; a++) {
      const attribute = unchecked(this.attributes[a]);
      const paths = attribute.streamPaths;
      const states = unchecked(this.states[a]);
      for (let p = 0; p < paths.length; p++) {
        const state = unchecked(states[p]);
        valueAt(ptr, size, unchecked(paths[p]), event);
        if (attribute.rule == APPEND) {
          if (event.kind == VALUE_NONE) continue;
          if (state.joined === null) state.joined = new Joined();
          // gjson's String(): a string's text, null's "", any other value's JSON.
          state.joined!.add(event.kind == VALUE_NULL ? "" : event.text, this.limit);
        } else if (event.valid && (attribute.rule == REPLACE || (attribute.rule == FIRST && state.found.kind == VALUE_NONE))) {
          state.found.set(event.kind, event.text);
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
      if (attribute.rule == APPEND) into.set(VALUE_STRING, state.joined === null ? "" : state.joined!.text(this.limit));
      else into.set(state.found.kind, state.found.text);
      if (into.valid) return into;
      if (p == 0) {
        firstKind = into.kind;
        firstText = into.text;
      }
    }
    return into.set(firstKind, firstText);
  }
}
