/** Path/query splitting and percent/form decoding that never throw (Go's net/url rules). */

export class PathParts {
  constructor(public path: string, public query: string) {}
}

/** Splits `:path` into the path and the query (without "?"); a fragment is dropped. */
export function splitPath(raw: string): PathParts {
  let end = raw.indexOf("#");
  if (end < 0) end = raw.length;
  const q = raw.indexOf("?");
  if (q < 0 || q > end) return new PathParts(raw.slice(0, end), "");
  return new PathParts(raw.slice(0, q), raw.slice(q + 1, end));
}

function hexValue(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Percent-decodes `s` (and `+` as a space when `plusAsSpace`); the bytes are read as UTF-8.
 * Null for a bad escape, so a malformed value is absent rather than mis-read (decision K7).
 */
export function decodeComponent(s: string, plusAsSpace: bool): string | null {
  if (!s.includes("%") && !(plusAsSpace && s.includes("+"))) return s;
  const utf8 = String.UTF8.encode(s);
  const src = changetype<usize>(utf8);
  const len = utf8.byteLength;
  const out = new ArrayBuffer(len);
  const dst = changetype<usize>(out);
  let n = 0;
  for (let i = 0; i < len; i++) {
    const c = <i32>load<u8>(src + i);
    if (c == 0x25) {
      if (i + 2 >= len) return null;
      const hi = hexValue(<i32>load<u8>(src + i + 1));
      const lo = hexValue(<i32>load<u8>(src + i + 2));
      if (hi < 0 || lo < 0) return null;
      store<u8>(dst + n++, <u8>(hi * 16 + lo));
      i += 2;
    } else if (c == 0x2b && plusAsSpace) {
      store<u8>(dst + n++, 0x20);
    } else {
      store<u8>(dst + n++, <u8>c);
    }
  }
  return String.UTF8.decodeUnsafe(dst, n);
}

/** One name=value pair; `valid` is false when either part has a bad escape or contains ";". */
export class QueryParam {
  constructor(public name: string, public value: string, public valid: bool) {}
}

/** Form-decodes a query string or an x-www-form-urlencoded body; malformed pairs are kept, marked invalid. */
export function parseQuery(query: string): Array<QueryParam> {
  const out = new Array<QueryParam>();
  if (query.length == 0) return out;
  const pairs = query.split("&");
  for (let i = 0; i < pairs.length; i++) {
    const pair = unchecked(pairs[i]);
    if (pair.length == 0) continue;
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
    // Go's url.ParseQuery refuses a semicolon in a pair.
    const semicolon = pair.includes(";");
    const name = decodeComponent(rawName, true);
    const value = decodeComponent(rawValue, true);
    out.push(new QueryParam(name === null ? rawName : name, value === null ? rawValue : value, !semicolon && name !== null && value !== null));
  }
  return out;
}

/** Same rules as a query string. */
export function parseForm(body: string): Array<QueryParam> {
  return parseQuery(body);
}

/** Every valid value of `name` (case-sensitive), in order; `?k=` gives one "". */
export function getQueryValues(params: Array<QueryParam>, name: string): Array<string> {
  const out = new Array<string>();
  for (let i = 0; i < params.length; i++) {
    const p = unchecked(params[i]);
    if (p.valid && p.name == name) out.push(p.value);
  }
  return out;
}

/** True when any pair is malformed (Higress then skips query-based rules entirely). */
export function hasInvalid(params: Array<QueryParam>): bool {
  for (let i = 0; i < params.length; i++) if (!unchecked(params[i]).valid) return true;
  return false;
}
