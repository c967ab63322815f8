// Whether a request body's bytes are text the request reader reads as every upstream does (A1):
// UTF-8 JSON, sent as it is. The reader compares UTF-8 bytes, while upstreams decode what they are
// told or what they detect: a content-encoding, a declared charset (Express decodes UTF-16 and
// UTF-7 when asked), or a UTF-16/32 body (Python's json tells it from the first four bytes).
import { indexOfAsciiCaseless } from "../text/index";
import { isIdentityEncoding } from "./content-type";

/** Not enough of the body yet to tell how it starts. */
export const START_MORE: i32 = 0;
/** A JSON object in UTF-8 (with or without a byte-order mark): read whole. */
export const START_OBJECT: i32 = 1;
/** Not a JSON object in any encoding an upstream detects: passes unchanged. */
export const START_OTHER: i32 = 2;
/** A JSON object in UTF-16 or UTF-32: the reader does not decode it, so it is refused. */
export const START_WIDE: i32 = 3;

const CHARSET = "charset";
// Charsets that read JSON's bytes as UTF-8 does.
const UTF8_NAMES: StaticArray<string> = ["utf-8", "utf8", "us-ascii"];

/** True when the request's content-encoding and content-type charset leave the body as UTF-8 bytes. */
export function readableRequestEncoding(contentEncoding: string | null, contentType: string | null): bool {
  if (!isIdentityEncoding(contentEncoding)) return false;
  if (contentType === null) return true;
  const at = indexOfAsciiCaseless(contentType, CHARSET);
  if (at < 0) return true;
  // The value after `charset` (spaces, `=` and quotes passed) must name UTF-8, and be the only one.
  let pos = at + CHARSET.length;
  while (pos < contentType.length && isValueMark(contentType.charCodeAt(pos))) pos++;
  const start = pos;
  while (pos < contentType.length && !isValueMark(contentType.charCodeAt(pos)) && contentType.charCodeAt(pos) != 0x3b) pos++;
  const value = contentType.substring(start, pos);
  let utf8 = false;
  for (let i = 0; i < UTF8_NAMES.length; i++) if (sameAscii(value, UTF8_NAMES[i])) utf8 = true;
  return utf8 && indexOfAsciiCaseless(contentType.substring(pos), CHARSET) < 0;
}

/** Space, tab, `=` or a quote: what surrounds a parameter's value. */
function isValueMark(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x3d || c == 0x22;
}

/** Whether text is `name` (lower-case ASCII) with A–Z folded. */
function sameAscii(text: string, name: string): bool {
  return text.length == name.length && indexOfAsciiCaseless(text, name) == 0;
}

/** Length of a UTF-8 byte-order mark at the start of the `size` bytes at ptr (Python's json and Node's body parsers skip it), else 0. */
export function utf8MarkLength(ptr: usize, size: i32): i32 {
  return size >= 3 && load<u8>(ptr) == 0xef && load<u8>(ptr + 1) == 0xbb && load<u8>(ptr + 2) == 0xbf ? 3 : 0;
}

/**
 * How the body whose first `size` bytes are at ptr starts (START_*); `ended` when that is the
 * whole body. As Python's json.detect_encoding, a NUL in the first two bytes or a UTF-16/32
 * byte-order mark means a wide encoding, whose code units then hold each ASCII character as one
 * byte among NULs; the first character that is not JSON whitespace decides.
 */
export function requestBodyStart(ptr: usize, size: i32, ended: bool): i32 {
  if (size < 4 && !ended) return START_MORE;
  const b0 = size > 0 ? load<u8>(ptr) : 1;
  const b1 = size > 1 ? load<u8>(ptr + 1) : 1;
  const wide = b0 == 0 || b1 == 0 || (b0 == 0xfe && b1 == 0xff) || (b0 == 0xff && b1 == 0xfe);
  for (let at = wide ? 0 : utf8MarkLength(ptr, size); at < size; at++) {
    const c = load<u8>(ptr + <usize>at);
    if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) continue;
    // A wide body's NULs, and its byte-order mark.
    if (wide && (c == 0 || c >= 0xfe)) continue;
    if (c != 0x7b) return START_OTHER;
    return wide ? START_WIDE : START_OBJECT;
  }
  return ended ? START_OTHER : START_MORE;
}
