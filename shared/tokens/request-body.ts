// Reads model, stream and the output limits from a JSON request body, and adds
// stream_options.include_usage for streams (decision A1); the limits size a reservation (issue 19).
//
// The body is read as the upstream reads it: keys and values after unescaping, and a repeated key
// means its last value (Python's json, Go's encoding/json and JSON.parse all keep the last). What
// upstreams would read differently from one another is refused (`refusal`), never guessed.
import { skipSpace, bytesEqual, readMember, JsonMember, jsonCodePointAt, codePointEnd, decodeJsonString } from "./json-bytes";
import { START_OBJECT, START_WIDE, requestBodyStart, utf8MarkLength } from "./request-start";
import { MAX_MODEL_LENGTH } from "./json-stream";
import { decodeUtf8Recent } from "../text/utf8";
import { asciiMatches } from "../text/ascii";

const INSERT_ROOT_MEMBER = ',"stream_options":{"include_usage":true}';
const INSERT_OPTIONS_OBJECT = '{"include_usage":true}';
const INSERT_FIRST_OPTION = '"include_usage":true,';
const INSERT_ONLY_OPTION = '"include_usage":true';
const TRUE_TEXT = "true";
const FALSE_TEXT = "false";
const NULL_TEXT = "null";

/** Why a body is refused: none. */
export const REFUSE_NONE: i32 = 0;
/** Not UTF-8 text (a JSON object in UTF-16 or UTF-32, a content-encoding, another charset). */
export const REFUSE_ENCODING: i32 = 1;
/** A key of the object or of stream_options that is not valid Unicode, or is a name read here only when case is ignored. */
export const REFUSE_KEY: i32 = 2;
/** `stream` is neither true, false nor null: upstreams coerce other values differently. */
export const REFUSE_STREAM: i32 = 3;

/** What the request body asks for; valid is false when the body is not a JSON object or is refused. */
export class RequestInfo {
  valid: bool = false;
  /** REFUSE_*: why the body must not be forwarded, or REFUSE_NONE. */
  refusal: i32 = REFUSE_NONE;
  model: string = "";
  stream: bool = false;
  /** True when stream_options.include_usage is already true. */
  includeUsage: bool = false;
  rootEnd: i32 = -1;
  optionsStart: i32 = -1;
  optionsEnd: i32 = -1;
  includeUsageStart: i32 = -1;
  includeUsageEnd: i32 = -1;
  /**
   * The output the request allows: the largest of max_tokens, max_completion_tokens and
   * max_output_tokens (the last of each repeated one), -1 when it sets none; and `n`, the choices.
   */
  maxOutputTokens: i64 = -1;
  choices: i64 = 1;
  /**
   * An output limit or `n` that upstreams may read differently from this reader (a key spelt with
   * other letter case, a value that is not a whole number): a reservation cannot rely on the limit.
   */
  limitUndecidable: bool = false;
}

// The keys read here, by id; any other key is KEY_OTHER.
const KEY_OTHER = 0;
const KEY_MODEL = 1;
const KEY_STREAM = 2;
const KEY_STREAM_OPTIONS = 3;
const KEY_INCLUDE_USAGE = 4;
// 5 to 7: max_tokens, max_completion_tokens, max_output_tokens.
const KEY_MAX_TOKENS = 5;
const KEY_CHOICES = 8;
/** A key an upstream may take for one of ours and another may not: refused. */
const KEY_UNDECIDABLE = -1;
/** The same for an output limit or `n`: only a reservation relies on them (limitUndecidable). */
const KEY_UNDECIDABLE_LIMIT = -2;
const KEY_NAMES: StaticArray<string> = ["model", "stream", "stream_options", "include_usage", "max_tokens", "max_completion_tokens", "max_output_tokens", "n"];
/** Ids from here on are the output limits and `n`: a spelling in other letter case is KEY_UNDECIDABLE_LIMIT. */
const FIRST_LIMIT_KEY = KEY_MAX_TOKENS;
const LONGEST_NAME = 21;
// A key's characters, case folded, while it is compared with the names (one body at a time).
const FOLDED = memory.data(LONGEST_NAME);

/**
 * The id of the key whose bytes (inside the quotes) are [start, end), compared after unescaping.
 * A key that is one of ours only with letter case ignored is undecidable: Go's encoding/json
 * matches struct fields case-insensitively (ſ as s, K as k), Python and JSON.parse do not. So is a
 * key that is not valid Unicode: parsers keep, replace or refuse a lone surrogate or a bad byte.
 */
function keyOf(ptr: usize, start: i32, end: i32): i32 {
  // Nearly every key is plain lower case (`model`, `messages`): compared as it is, nothing folded.
  let plainEnd = start;
  while (plainEnd < end) {
    const c = <u32>load<u8>(ptr + <usize>plainEnd);
    if ((c < 0x61 || c > 0x7a) && c != 0x5f) break;
    plainEnd++;
  }
  if (plainEnd == end) {
    const id = keyNameId(ptr + <usize>start, <usize>(end - start));
    return id == 0 ? KEY_OTHER : id;
  }
  let count = 0;
  let exact = true;
  let pos = start;
  while (pos < end) {
    let c = <i32>load<u8>(ptr + <usize>pos);
    if (c != 0x5c && c < 0x80) {
      pos++;
    } else {
      c = jsonCodePointAt(ptr, pos, end);
      if (c < 0) return KEY_UNDECIDABLE;
      pos = codePointEnd;
    }
    if (c >= 0x41 && c <= 0x5a) {
      c |= 0x20;
      exact = false;
    } else if (c == 0x17f) {
      c = 0x73;
      exact = false;
    } else if (c == 0x212a) {
      c = 0x6b;
      exact = false;
    } else if (c >= 0x80) {
      // In no name; NUL is in none either.
      c = 0;
    }
    if (count < LONGEST_NAME) store<u8>(FOLDED + <usize>count, <u8>c);
    count++;
  }
  if (count > LONGEST_NAME) return KEY_OTHER;
  const id = keyNameId(FOLDED, <usize>count);
  if (id == 0) return KEY_OTHER;
  if (exact) return id;
  return id >= FIRST_LIMIT_KEY ? KEY_UNDECIDABLE_LIMIT : KEY_UNDECIDABLE;
}

/** The id of the key name that is exactly the `size` bytes at `ptr`, or 0 for none. */
function keyNameId(ptr: usize, size: usize): i32 {
  for (let i = 0; i < KEY_NAMES.length; i++) {
    if (asciiMatches(unchecked(KEY_NAMES[i]), ptr, size)) return i + 1;
  }
  return 0;
}

/**
 * The model string's text, escapes decoded, cut at MAX_MODEL_LENGTH as the response reader cuts
 * its model (a 500 KB name would otherwise live as a 1 MB string for the stream's life); "" when
 * the value is not a string.
 */
function modelOf(ptr: usize, start: i32, end: i32): string {
  if (load<u8>(ptr + <usize>start) != 0x22) return "";
  const first = start + 1;
  const last = end - 1;
  for (let i = first; i < last; i++) {
    if (load<u8>(ptr + <usize>i) != 0x5c) continue;
    // An escape is at most 12 bytes for one character (a surrogate pair): decode no more than needed.
    const text = decodeJsonString(ptr, first, min(last, first + MAX_MODEL_LENGTH * 12));
    return text.length > MAX_MODEL_LENGTH ? text.substring(0, MAX_MODEL_LENGTH) : text;
  }
  return decodeUtf8Recent(ptr + <usize>first, <usize>min(last - first, MAX_MODEL_LENGTH));
}

// One request body is read at a time: its members are read into these, the root's and the
// stream_options object's apart because the second is read while the first is in use.
const rootMember = new JsonMember();
const optionsMember = new JsonMember();

/** Reads the top-level model, stream, stream_options, output limits and n of the JSON body of `end` bytes at `ptr`; never traps on bad JSON. */
export function readRequestInfoAt(ptr: usize, end: i32): RequestInfo {
  const info = new RequestInfo();
  for (let i = 0; i < limits.length; i++) unchecked(limits[i] = -1);
  const start = requestBodyStart(ptr, end, true);
  if (start == START_WIDE) info.refusal = REFUSE_ENCODING;
  if (start != START_OBJECT) return info;
  let pos = skipSpace(ptr, end, utf8MarkLength(ptr, end)) + 1;
  pos = skipSpace(ptr, end, pos);
  if (pos < end && load<u8>(ptr + <usize>pos) == 0x7d) {
    info.valid = true;
    info.rootEnd = pos;
    return info;
  }
  const member = rootMember;
  pos--;
  while (true) {
    if (!readMember(ptr, end, pos + 1, member)) return info;
    const vs = member.valueStart;
    const ve = member.valueEnd;
    const key = keyOf(ptr, member.keyStart, member.keyEnd);
    if (key == KEY_UNDECIDABLE) return refuse(info, REFUSE_KEY);
    if (key == KEY_MODEL) {
      info.model = modelOf(ptr, vs, ve);
    } else if (key == KEY_STREAM) {
      info.stream = bytesEqual(ptr, vs, ve, TRUE_TEXT);
      if (!info.stream && !bytesEqual(ptr, vs, ve, FALSE_TEXT) && !bytesEqual(ptr, vs, ve, NULL_TEXT)) return refuse(info, REFUSE_STREAM);
    } else if (key >= FIRST_LIMIT_KEY || key == KEY_UNDECIDABLE_LIMIT) {
      readLimit(ptr, vs, ve, key, info);
    } else if (key == KEY_STREAM_OPTIONS) {
      // The last stream_options is the one the upstream uses: it replaces what an earlier one said.
      info.optionsStart = vs;
      info.optionsEnd = ve;
      if (!readStreamOptions(ptr, info)) return refuse(info, REFUSE_KEY);
    }
    pos = member.next;
    const c = load<u8>(ptr + <usize>pos);
    if (c == 0x7d) break;
    if (c != 0x2c) return info;
  }
  info.rootEnd = pos;
  info.valid = true;
  for (let i = 0; i < limits.length; i++) info.maxOutputTokens = max(info.maxOutputTokens, unchecked(limits[i]));
  return info;
}

/** Larger than any model's output: a limit above it is read as this (a reservation of it fits no budget). */
const MAX_LIMIT: i64 = 1_000_000_000_000;

/**
 * A plain non-negative JSON integer (no sign, fraction or exponent: upstreams coerce those
 * differently), capped at MAX_LIMIT; -1 for null, -2 for anything else.
 */
function limitValue(ptr: usize, start: i32, end: i32): i64 {
  if (bytesEqual(ptr, start, end, NULL_TEXT)) return -1;
  if (start >= end) return -2;
  let value: i64 = 0;
  for (let i = start; i < end; i++) {
    const c = <i32>load<u8>(ptr + <usize>i);
    if (c < 0x30 || c > 0x39) return -2;
    if (value < MAX_LIMIT) value = value * 10 + (c - 0x30);
  }
  return min(value, MAX_LIMIT);
}

// The last value of each output limit key in the body being read (-1: none), by id from FIRST_LIMIT_KEY.
const limits: StaticArray<i64> = [-1, -1, -1];

/** One output limit or `n`: the last of each repeated key counts; a null limit is none. */
function readLimit(ptr: usize, start: i32, end: i32, key: i32, info: RequestInfo): void {
  const value = key == KEY_UNDECIDABLE_LIMIT ? -2 : limitValue(ptr, start, end);
  if (value == -2) {
    info.limitUndecidable = true;
  } else if (key == KEY_CHOICES) {
    info.choices = value < 1 ? 1 : value;
  } else {
    unchecked(limits[key - FIRST_LIMIT_KEY] = value);
  }
}

function refuse(info: RequestInfo, why: i32): RequestInfo {
  info.valid = false;
  info.refusal = why;
  return info;
}

/** Reads the stream_options value at info.optionsStart; its last include_usage counts. False on an undecidable key. */
function readStreamOptions(ptr: usize, info: RequestInfo): bool {
  info.includeUsageStart = -1;
  info.includeUsage = false;
  const start = info.optionsStart;
  const end = info.optionsEnd;
  if (load<u8>(ptr + <usize>start) != 0x7b) return true;
  let pos = skipSpace(ptr, end, start + 1);
  if (load<u8>(ptr + <usize>pos) == 0x7d) return true;
  const member = optionsMember;
  pos--;
  while (readMember(ptr, end, pos + 1, member)) {
    const key = keyOf(ptr, member.keyStart, member.keyEnd);
    if (key == KEY_UNDECIDABLE) return false;
    if (key == KEY_INCLUDE_USAGE) {
      info.includeUsageStart = member.valueStart;
      info.includeUsageEnd = member.valueEnd;
      info.includeUsage = bytesEqual(ptr, member.valueStart, member.valueEnd, TRUE_TEXT);
    }
    pos = member.next;
    if (load<u8>(ptr + <usize>pos) != 0x2c) return true;
  }
  return true;
}

/**
 * Returns a new body (the `length` bytes at `ptr` with stream_options.include_usage set to true)
 * for a streaming request, or null when nothing must change (not a stream, already true, or not a
 * JSON object). An explicit false is overridden: the plugin must see usage to charge, and the
 * client only gains one extra final chunk. The member changed is the one a parser keeping the
 * last of repeated keys uses: the last include_usage of the last stream_options, or a new last one.
 */
export function injectStreamUsageAt(ptr: usize, length: i32, info: RequestInfo): ArrayBuffer | null {
  if (!info.valid || !info.stream || info.includeUsage) return null;
  if (info.includeUsageStart >= 0) return splice(ptr, length, info.includeUsageStart, info.includeUsageEnd, TRUE_TEXT);
  if (info.optionsStart >= 0) {
    if (load<u8>(ptr + <usize>info.optionsStart) != 0x7b) {
      return splice(ptr, length, info.optionsStart, info.optionsEnd, INSERT_OPTIONS_OBJECT);
    }
    const inner = skipSpace(ptr, info.optionsEnd, info.optionsStart + 1);
    const empty = load<u8>(ptr + <usize>inner) == 0x7d;
    const at = info.optionsStart + 1;
    return splice(ptr, length, at, at, empty ? INSERT_ONLY_OPTION : INSERT_FIRST_OPTION);
  }
  return splice(ptr, length, info.rootEnd, info.rootEnd, INSERT_ROOT_MEMBER);
}

/** The `length` bytes at `src` with bytes [start, end) replaced by the ASCII text, as a new buffer. */
function splice(src: usize, length: i32, start: i32, end: i32, text: string): ArrayBuffer {
  const size = length - (end - start) + text.length;
  const out = new ArrayBuffer(size);
  const dst = changetype<usize>(out);
  memory.copy(dst, src, <usize>start);
  for (let i = 0; i < text.length; i++) store<u8>(dst + <usize>(start + i), <u8>load<u16>(changetype<usize>(text) + (<usize>i << 1)));
  memory.copy(dst + <usize>(start + text.length), src + <usize>end, <usize>(length - end));
  return out;
}
