// Non-throwing helpers that walk a whole JSON text in memory by byte offsets (for request bodies).
import { stringRunEnd } from "./scan";
import { asciiMatches } from "../text/ascii";

/** Returns the offset of the first non-whitespace byte at or after pos. */
export function skipSpace(ptr: usize, end: i32, pos: i32): i32 {
  while (pos < end) {
    const c = load<u8>(ptr + <usize>pos);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
    pos++;
  }
  return pos;
}

/** Given pos at an opening quote, returns the offset after the closing quote, or -1. */
export function skipString(ptr: usize, end: i32, pos: i32): i32 {
  let at = <usize>(pos + 1);
  while (true) {
    // Only a quote or a backslash matters: found eight bytes at a time.
    at = stringRunEnd(ptr, at, <usize>end);
    if (at >= <usize>end) return -1;
    if (load<u8>(ptr + at) == 0x22) return <i32>at + 1;
    at += 2;
  }
}

/** Given pos at the first byte of a value, returns the offset after it, or -1 when it is malformed or cut off. */
export function skipValue(ptr: usize, end: i32, pos: i32): i32 {
  if (pos >= end) return -1;
  const first = load<u8>(ptr + <usize>pos);
  if (first == 0x22) return skipString(ptr, end, pos);
  if (first != 0x7b && first != 0x5b) {
    const start = pos;
    while (pos < end) {
      const c = load<u8>(ptr + <usize>pos);
      if (c == 0x2c || c == 0x7d || c == 0x5d || c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) break;
      pos++;
    }
    return pos > start ? pos : -1;
  }
  let depth = 0;
  while (pos < end) {
    const c = load<u8>(ptr + <usize>pos);
    if (c == 0x22) {
      pos = skipString(ptr, end, pos);
      if (pos < 0) return -1;
      continue;
    }
    if (c == 0x7b || c == 0x5b) depth++;
    else if (c == 0x7d || c == 0x5d) {
      depth--;
      if (depth == 0) return pos + 1;
    }
    pos++;
  }
  return -1;
}

/** True when the bytes [start, end) equal the ASCII text. */
export function bytesEqual(ptr: usize, start: i32, end: i32, text: string): bool {
  return end >= start && asciiMatches(text, ptr + <usize>start, <usize>(end - start));
}

/** One member of a JSON object: key bytes without quotes and the value span. */
export class JsonMember {
  keyStart: i32 = 0;
  keyEnd: i32 = 0;
  valueStart: i32 = 0;
  valueEnd: i32 = 0;
  /** Offset just after the member (at ',' or '}' after whitespace). */
  next: i32 = 0;
}

/** Reads the member at pos (after '{' or ','); returns false on malformed input. */
export function readMember(ptr: usize, end: i32, pos: i32, member: JsonMember): bool {
  pos = skipSpace(ptr, end, pos);
  if (pos >= end || load<u8>(ptr + <usize>pos) != 0x22) return false;
  const keyEnd = skipString(ptr, end, pos);
  if (keyEnd < 0) return false;
  member.keyStart = pos + 1;
  member.keyEnd = keyEnd - 1;
  pos = skipSpace(ptr, end, keyEnd);
  if (pos >= end || load<u8>(ptr + <usize>pos) != 0x3a) return false;
  pos = skipSpace(ptr, end, pos + 1);
  const valueEnd = skipValue(ptr, end, pos);
  if (valueEnd < 0) return false;
  member.valueStart = pos;
  member.valueEnd = valueEnd;
  member.next = skipSpace(ptr, end, valueEnd);
  return member.next < end;
}

/** Offset just after the code point the last jsonCodePointAt read (or gave up on). */
export let codePointEnd: i32 = 0;

/**
 * The code point at `pos` among a JSON string's bytes (before `end`, its closing quote), read as
 * strict parsers read it: an escape (`\n`, `\u0065`, a surrogate pair) or a UTF-8 sequence. -1
 * for what parsers disagree on or refuse: a bad escape, a lone surrogate, invalid UTF-8.
 */
export function jsonCodePointAt(ptr: usize, pos: i32, end: i32): i32 {
  const c = <i32>load<u8>(ptr + <usize>pos);
  if (c == 0x5c) return escapeAt(ptr, pos, end);
  codePointEnd = pos + 1;
  return c < 0x80 ? c : utf8At(ptr, pos, end, c);
}

/** The escape at pos (a backslash), as above. */
function escapeAt(ptr: usize, pos: i32, end: i32): i32 {
  codePointEnd = pos + 2;
  if (pos + 1 >= end) return -1;
  const e = load<u8>(ptr + <usize>(pos + 1));
  if (e == 0x22 || e == 0x5c || e == 0x2f) return e;
  if (e == 0x62) return 0x08;
  if (e == 0x66) return 0x0c;
  if (e == 0x6e) return 0x0a;
  if (e == 0x72) return 0x0d;
  if (e == 0x74) return 0x09;
  if (e != 0x75) return -1;
  const unit = hex4(ptr, pos + 2, end);
  if (unit < 0) return -1;
  codePointEnd = pos + 6;
  if (unit < 0xd800 || unit > 0xdfff) return unit;
  // A high surrogate counts only with the low one escaped right after it.
  if (unit >= 0xdc00 || pos + 12 > end) return -1;
  if (load<u8>(ptr + <usize>(pos + 6)) != 0x5c || load<u8>(ptr + <usize>(pos + 7)) != 0x75) return -1;
  const low = hex4(ptr, pos + 8, end);
  if (low < 0xdc00 || low > 0xdfff) return -1;
  codePointEnd = pos + 12;
  return 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
}

/** Four hex digits at pos as a number, or -1. */
function hex4(ptr: usize, pos: i32, end: i32): i32 {
  if (pos + 4 > end) return -1;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const c = <i32>load<u8>(ptr + <usize>(pos + i));
    let digit = -1;
    if (c >= 0x30 && c <= 0x39) digit = c - 0x30;
    else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) digit = (c | 0x20) - 0x61 + 10;
    if (digit < 0) return -1;
    value = (value << 4) | digit;
  }
  return value;
}

/** The UTF-8 sequence led by byte c at pos: shortest form, no surrogates, at most U+10FFFF; else -1. */
function utf8At(ptr: usize, pos: i32, end: i32, c: i32): i32 {
  let more = 0;
  let value = 0;
  let least = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    more = 1;
    value = c & 0x1f;
    least = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    more = 2;
    value = c & 0x0f;
    least = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    more = 3;
    value = c & 0x07;
    least = 0x10000;
  } else {
    return -1;
  }
  if (pos + more >= end) return -1;
  for (let i = 1; i <= more; i++) {
    const b = <i32>load<u8>(ptr + <usize>(pos + i));
    if ((b & 0xc0) != 0x80) return -1;
    value = (value << 6) | (b & 0x3f);
  }
  if (value < least || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return -1;
  codePointEnd = pos + more + 1;
  return value;
}

/** The text of the JSON string bytes [start, end) (inside its quotes), escapes decoded; what cannot be decoded becomes U+FFFD. */
export function decodeJsonString(ptr: usize, start: i32, end: i32): string {
  // Two passes, counting UTF-16 units and then writing them: a rare path, kept small.
  let units = 0;
  for (let pos = start; pos < end; pos = codePointEnd) units += jsonCodePointAt(ptr, pos, end) > 0xffff ? 2 : 1;
  const text = changetype<string>(__new(<usize>units << 1, idof<string>()));
  let out = changetype<usize>(text);
  for (let pos = start; pos < end; pos = codePointEnd) {
    let c = jsonCodePointAt(ptr, pos, end);
    if (c < 0) c = 0xfffd;
    if (c > 0xffff) {
      c -= 0x10000;
      store<u16>(out, <u16>(0xd800 + (c >> 10)));
      out += 2;
      c = 0xdc00 + (c & 0x3ff);
    }
    store<u16>(out, <u16>c);
    out += 2;
  }
  return text;
}
