/**
 * UTF-8 bytes to a string. Header values, keys and model names are nearly always ASCII: those are
 * widened straight into a string of the right size, where the standard decoder allocates twice
 * the bytes and then shrinks the block.
 */

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
