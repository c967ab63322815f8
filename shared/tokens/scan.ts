// Finding the next interesting byte eight bytes at a time (SWAR): the reader's hot loops.

const ONES: u64 = 0x0101010101010101;
const HIGHS: u64 = 0x8080808080808080;

/** True when some byte of the word equals the byte spread in `pattern` (the zero-byte test). */
@inline
function hasByte(word: u64, pattern: u64): bool {
  const x = word ^ pattern;
  return ((x - ONES) & ~x & HIGHS) != 0;
}

/** Index of the first byte equal to `a` or `b` at or after i, or len when none. */
@inline
function indexOfEither(ptr: usize, i: usize, len: usize, a: u32, b: u32): usize {
  const spreadA = <u64>a * ONES;
  const spreadB = <u64>b * ONES;
  while (i + 8 <= len) {
    const word = load<u64>(ptr + i);
    if (hasByte(word, spreadA) || hasByte(word, spreadB)) break;
    i += 8;
  }
  while (i < len) {
    const c = <u32>load<u8>(ptr + i);
    if (c == a || c == b) return i;
    i++;
  }
  return len;
}

/** Index of the first CR or LF at or after i, or len when none. */
export function lineEnd(ptr: usize, i: usize, len: usize): usize {
  return indexOfEither(ptr, i, len, 0x0a, 0x0d);
}

/** Index of the first quote or backslash at or after i, or len: the end of a run of string bytes. */
export function stringRunEnd(ptr: usize, i: usize, len: usize): usize {
  return indexOfEither(ptr, i, len, 0x22, 0x5c);
}
