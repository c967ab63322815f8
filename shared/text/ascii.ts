/**
 * ASCII case folding for header names, content types and auth schemes: HTTP tokens are ASCII, and
 * the standard library's Unicode toLowerCase brings several KB of case tables into every module.
 */

/** `text` with A–Z folded to a–z; the same string, unallocated, when it has no upper-case letter. */
export function lowerAscii(text: string): string {
  let first = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
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
