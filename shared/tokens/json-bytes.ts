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
