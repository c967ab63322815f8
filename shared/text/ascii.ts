/**
 * ASCII case folding for header names, content types and auth schemes: HTTP tokens are ASCII, and
 * the standard library's Unicode toLowerCase brings several KB of case tables into every module.
 */

/** `text` with A–Z folded to a–z; the same string, unallocated, when it has no upper-case letter. */
export function lowerAscii(text: string): string {
  let first = -1;
  for (let i = 0; i < text.length; i++) {
    const c = load<u16>(changetype<usize>(text) + (<usize>i << 1));
    if (c >= 0x41 && c <= 0x5a) {
      first = i;
      break;
    }
  }
  if (first < 0) return text;
  const out = changetype<string>(__new(text.length << 1, idof<string>()));
  memory.copy(changetype<usize>(out), changetype<usize>(text), <usize>text.length << 1);
  for (let i = first; i < text.length; i++) {
    const c = load<u16>(changetype<usize>(out) + (<usize>i << 1));
    if (c >= 0x41 && c <= 0x5a) store<u16>(changetype<usize>(out) + (<usize>i << 1), c | 0x20);
  }
  return out;
}

/** Where `needle` (lower-case ASCII) first occurs in `text` with A–Z folded, or -1; allocates nothing. */
export function indexOfAsciiCaseless(text: string, needle: string): i32 {
  const chars = changetype<usize>(text);
  const wanted = changetype<usize>(needle);
  const count = needle.length;
  for (let i = 0; i <= text.length - count; i++) {
    let k = 0;
    while (k < count) {
      let c = load<u16>(chars + (<usize>(i + k) << 1));
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c != load<u16>(wanted + (<usize>k << 1))) break;
      k++;
    }
    if (k == count) return i;
  }
  return -1;
}

/**
 * Whether the ASCII string `text` is exactly the `size` bytes at `ptr`. Inlined, so that the
 * length test costs no call: callers try many candidates (recent strings, key names), mostly of
 * another length.
 */
@inline
export function asciiMatches(text: string, ptr: usize, size: usize): bool {
  return <usize>text.length == size && sameAsciiBytes(text, ptr, size);
}

/**
 * Whether the first `size` characters of the ASCII string `text` are the `size` bytes at `ptr`:
 * four at a time, each group of four bytes widened to the four UTF-16 units it would be (every
 * caller compares header values, names and keys, which are mostly longer than eight bytes).
 */
function sameAsciiBytes(text: string, ptr: usize, size: usize): bool {
  const chars = changetype<usize>(text);
  let k: usize = 0;
  while (k + 4 <= size) {
    const bytes = <u64>load<u32>(ptr + k);
    const widened = (bytes & 0xff) | ((bytes & 0xff00) << 8) | ((bytes & 0xff0000) << 16) | ((bytes & 0xff000000) << 24);
    if (load<u64>(chars + (k << 1)) != widened) return false;
    k += 4;
  }
  for (; k < size; k++) {
    if (load<u16>(chars + (k << 1)) != <u16>load<u8>(ptr + k)) return false;
  }
  return true;
}
