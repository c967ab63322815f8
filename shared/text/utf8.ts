/**
 * UTF-8 bytes to a string. Header values, keys and model names are nearly always ASCII: those are
 * widened straight into a string of the right size, where the standard decoder allocates twice
 * the bytes and then shrinks the block.
 */
import { asciiMatches } from "./ascii";

const HIGH_BITS: u64 = 0x8080808080808080;

/** The `size` UTF-8 bytes at `ptr` as a string (invalid sequences as the standard decoder reads them). */
export function decodeUtf8(ptr: usize, size: usize): string {
  if (size == 0) return "";
  let i: usize = 0;
  while (i + 8 <= size) {
    if ((load<u64>(ptr + i) & HIGH_BITS) != 0) return String.UTF8.decodeUnsafe(ptr, size);
    i += 8;
  }
  while (i < size) {
    if ((load<u8>(ptr + i) & 0x80) != 0) return String.UTF8.decodeUnsafe(ptr, size);
    i++;
  }
  const text = changetype<string>(__new(size << 1, idof<string>()));
  const out = changetype<usize>(text);
  for (let k: usize = 0; k < size; k++) store<u16>(out + (k << 1), load<u8>(ptr + k));
  return text;
}

// The same few values come back request after request (a route, a cluster, a content type, a
// consumer, a model): the last ones decoded are kept, and bytes equal to one give that string
// again. Strings never change, so sharing one is safe, and equal labels then compare by identity.
const RECENT_STRINGS = 8;
const MAX_RECENT_BYTES: usize = 128;
const recentStrings = new StaticArray<string | null>(RECENT_STRINGS);
let nextRecent = 0;

/** Like decodeUtf8, but a short ASCII value seen lately comes back as the same string, unallocated. */
export function decodeUtf8Recent(ptr: usize, size: usize): string {
  if (size == 0 || size > MAX_RECENT_BYTES) return decodeUtf8(ptr, size);
  for (let i = 0; i < RECENT_STRINGS; i++) {
    const seen = unchecked(recentStrings[i]);
    // A reference test: `seen !== null` on a string would be a call of String.__eq per entry.
    if (changetype<usize>(seen) != 0 && asciiMatches(changetype<string>(seen), ptr, size)) return changetype<string>(seen);
  }
  const text = decodeUtf8(ptr, size);
  // Only ASCII is kept: one character per byte.
  if (<usize>text.length == size) {
    unchecked((recentStrings[nextRecent] = text));
    nextRecent = (nextRecent + 1) % RECENT_STRINGS;
  }
  return text;
}
