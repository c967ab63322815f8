/**
 * The bytes of an `ai_log` value as ai-log.ts writes it: one buffer reused by every write, and
 * what goes into it with direct stores, no string built: a JSON object's text written as the
 * contents of a JSON string (every `"` and `\\` of it escaped again), numbers as digits, keys
 * escaped once and copied after that, and where the members of a stored object start.
 */
import { RecentByIdentity } from "../text/by-identity";

/** The value being written, reused by every write (one stream writes at a time). */
let scratch = new Uint8Array(256);
let used: i32 = 0;

/** Empties the buffer for the next value. */
export function startValue(): void {
  used = 0;
}

/** Where the value starts; valid until the buffer grows. */
export function valueStart(): usize {
  return scratch.dataStart;
}

/** Bytes written so far. */
export function writtenBytes(): i32 {
  return used;
}

/** Room for `extra` more bytes. Inlined: every write asks, and the buffer has room nearly always. */
@inline
function ensure(extra: i32): void {
  if (used + extra > scratch.length) grow(extra);
}

function grow(extra: i32): void {
  const bigger = new Uint8Array(max(scratch.length * 2, used + extra));
  bigger.set(scratch.subarray(0, used));
  scratch = bigger;
}

export function put(byte: i32): void {
  ensure(1);
  unchecked((scratch[used++] = <u8>byte));
}

/** `size` bytes at `ptr`, as they are. */
export function putBytes(ptr: usize, size: i32): void {
  ensure(size);
  memory.copy(scratch.dataStart + <usize>used, ptr, <usize>size);
  used += size;
}

// Lower-case hex digits as bytes.
const HEX = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);

/** `\uXXXX` for the UTF-16 unit `c` at `p`; returns the address after it. */
function storeUnicodeEscape(p: usize, c: u32): usize {
  store<u8>(p, 0x5c);
  store<u8>(p + 1, 0x75);
  store<u8>(p + 2, load<u8>(HEX + ((c >> 12) & 15)));
  store<u8>(p + 3, load<u8>(HEX + ((c >> 8) & 15)));
  store<u8>(p + 4, load<u8>(HEX + ((c >> 4) & 15)));
  store<u8>(p + 5, load<u8>(HEX + (c & 15)));
  return p + 6;
}

/**
 * The UTF-16 unit `c` (a high surrogate followed by its low one at `chars + 2` as one code point:
 * strings here are decoded UTF-8 or our own text) as UTF-8 at `p`; `units` is set to how many it took.
 */
let units: i32 = 1;
function storeUtf8(p: usize, c: u32, chars: usize, left: i32): usize {
  units = 1;
  if (c < 0x80) {
    store<u8>(p, <u8>c);
    return p + 1;
  }
  if (c < 0x800) {
    store<u8>(p, <u8>(0xc0 | (c >> 6)));
    store<u8>(p + 1, <u8>(0x80 | (c & 63)));
    return p + 2;
  }
  if (c >= 0xd800 && c < 0xdc00 && left > 1) {
    const cp = 0x10000 + ((c - 0xd800) << 10) + (<u32>load<u16>(chars + 2) - 0xdc00);
    units = 2;
    store<u8>(p, <u8>(0xf0 | (cp >> 18)));
    store<u8>(p + 1, <u8>(0x80 | ((cp >> 12) & 63)));
    store<u8>(p + 2, <u8>(0x80 | ((cp >> 6) & 63)));
    store<u8>(p + 3, <u8>(0x80 | (cp & 63)));
    return p + 4;
  }
  store<u8>(p, <u8>(0xe0 | (c >> 12)));
  store<u8>(p + 1, <u8>(0x80 | ((c >> 6) & 63)));
  store<u8>(p + 2, <u8>(0x80 | (c & 63)));
  return p + 3;
}

/** `json` (JSON text) as the contents of a JSON string: `"` and `\` escaped, controls as \u00XX, the rest UTF-8. */
export function putEscaped(json: string): void {
  const length = json.length;
  // At most six bytes per unit (\u00XX); a pair's four bytes are fewer than its two units' six each.
  ensure(length * 6);
  const chars = changetype<usize>(json);
  let p = scratch.dataStart + <usize>used;
  for (let i = 0; i < length; ) {
    const c = <u32>load<u16>(chars + (<usize>i << 1));
    if (c == 0x22 || c == 0x5c) {
      store<u8>(p, 0x5c);
      store<u8>(p + 1, <u8>c);
      p += 2;
      i++;
    } else if (c < 0x20) {
      p = storeUnicodeEscape(p, c);
      i++;
    } else {
      p = storeUtf8(p, c, chars + (<usize>i << 1), length - i);
      i += units;
    }
  }
  used = <i32>(p - scratch.dataStart);
}

/**
 * `text` as a JSON string (jsonString: Go's escapes, `<`, `>`, `&`, U+2028/9 as \u) written as the
 * contents of a JSON string, in one pass: the same bytes as putEscaped(jsonString(text)).
 */
export function putEscapedString(text: string): void {
  const length = text.length;
  // At most seven bytes per unit (\\u003c), and the two escaped quotes.
  ensure(length * 7 + 4);
  const chars = changetype<usize>(text);
  let p = scratch.dataStart + <usize>used;
  // The opening quote, escaped: \"
  store<u16>(p, 0x225c);
  p += 2;
  for (let i = 0; i < length; ) {
    const c = <u32>load<u16>(chars + (<usize>i << 1));
    if (c >= 0x20 && c < 0x7f && c != 0x22 && c != 0x5c && c != 0x3c && c != 0x3e && c != 0x26) {
      store<u8>(p++, <u8>c);
      i++;
    } else if (c == 0x22 || c == 0x5c) {
      // \" or \\ in JSON, each of its two characters escaped again.
      store<u16>(p, 0x5c5c);
      store<u8>(p + 2, 0x5c);
      store<u8>(p + 3, <u8>c);
      p += 4;
      i++;
    } else if (c == 0x0a || c == 0x0d || c == 0x09) {
      store<u16>(p, 0x5c5c);
      store<u8>(p + 2, c == 0x0a ? 0x6e : c == 0x0d ? 0x72 : 0x74);
      p += 3;
      i++;
    } else if (c < 0x20 || c == 0x3c || c == 0x3e || c == 0x26 || c == 0x2028 || c == 0x2029) {
      // \uXXXX in JSON: its backslash escaped again.
      store<u8>(p, 0x5c);
      p = storeUnicodeEscape(p + 1, c);
      i++;
    } else {
      p = storeUtf8(p, c, chars + (<usize>i << 1), length - i);
      i += units;
    }
  }
  store<u16>(p, 0x225c);
  used = <i32>(p + 2 - scratch.dataStart);
}

/** Decimal digits of `value`. */
export function putInt(value: i64): void {
  let rest = <u64>value;
  if (value < 0) {
    put(0x2d);
    rest = 0 - rest;
  }
  let digits = 1;
  for (let v = rest; v >= 10; v /= 10) digits++;
  ensure(digits);
  let p = used + digits;
  used = p;
  do {
    unchecked((scratch[--p] = <u8>(0x30 + <i32>(rest % 10))));
    rest /= 10;
  } while (rest != 0);
}

// Where the stored object's members may start (after `{` or `,`; a `,` inside a value only adds a
// position where no key matches), found once per write: each of our keys is compared there only.
const MAX_MEMBER_STARTS = 256;
const memberStarts = new StaticArray<i32>(MAX_MEMBER_STARTS);
let memberCount = 0;

/** Finds the member starts of the compact object in the first `to` bytes (memberCount -1 past MAX_MEMBER_STARTS: every position is compared then). */
export function findMemberStarts(to: i32): void {
  const base = scratch.dataStart;
  memberCount = 0;
  for (let i = 1; i < to; i++) {
    const before = load<u8>(base + <usize>i - 1);
    if (before != 0x7b && before != 0x2c) continue;
    if (memberCount == MAX_MEMBER_STARTS) {
      memberCount = -1;
      return;
    }
    unchecked((memberStarts[memberCount++] = i));
  }
}

/**
 * True when the key written last, from `keyStart` to the end (`\"key\":`), is a member of the
 * compact object in the first `to` bytes, whose member starts findMemberStarts found.
 */
export function storedHasKey(to: i32, keyStart: i32): bool {
  const base = scratch.dataStart;
  const ptr = base + <usize>keyStart;
  const size = used - keyStart;
  if (memberCount < 0) {
    // More commas than the list holds: every position after `{` or `,` is compared.
    for (let i = 1; i + size <= to; i++) {
      const before = load<u8>(base + <usize>i - 1);
      if ((before == 0x7b || before == 0x2c) && memory.compare(base + <usize>i, ptr, <usize>size) == 0) return true;
    }
    return false;
  }
  for (let k = 0; k < memberCount; k++) {
    const at = unchecked(memberStarts[k]);
    if (at + size <= to && memory.compare(base + <usize>at, ptr, <usize>size) == 0) return true;
  }
  return false;
}

// Keys are the plugins' constants and a few configured names, and most string values are the
// plugins' constants too (a status): each is escaped once, and its bytes copied after that.
const escapedKeys = new RecentByIdentity<ArrayBuffer>(32);
const escapedLiterals = new RecentByIdentity<ArrayBuffer>(16);

/** `text` as putEscapedString writes it, with `:` after it when `colon`: from the bytes `cache` kept for it, else written and kept. */
function putCached(cache: RecentByIdentity<ArrayBuffer>, text: string, colon: bool): void {
  const escaped = cache.find(text);
  if (escaped !== null) {
    putBytes(changetype<usize>(escaped), escaped.byteLength);
    return;
  }
  const start = used;
  putEscapedString(text);
  if (colon) put(0x3a);
  const bytes = new ArrayBuffer(used - start);
  memory.copy(changetype<usize>(bytes), scratch.dataStart + <usize>start, <usize>(used - start));
  cache.add(text, bytes);
}

/** `\"key\":` at the end of scratch. */
export function putKey(key: string): void {
  putCached(escapedKeys, key, true);
}

/** A string value as putEscapedString writes it; a string of the module's own (a literal, never traffic) from its kept bytes. */
export function putStringValue(text: string): void {
  if (changetype<usize>(text) < __heap_base) putCached(escapedLiterals, text, false);
  else putEscapedString(text);
}
