/** Header-map (de)serialisation in the pairs format of proxy-wasm-abi.md §3.1 (all integers u32 LE). */
import { decodeUtf8 } from "../text/utf8";

/** One header or trailer; names are lower-case when they come from the host. */
export class Header {
  constructor(public name: string, public value: string) {}
}

/** Encodes headers as: count, (name size, value size) per pair, then each name and value NUL-terminated. */
export function serializeHeaders(headers: Array<Header>): ArrayBuffer {
  const count = headers.length;
  const names = new Array<ArrayBuffer>(count);
  const values = new Array<ArrayBuffer>(count);
  let size = 4 + 8 * count;
  for (let i = 0; i < count; i++) {
    const header = unchecked(headers[i]);
    const name = String.UTF8.encode(header.name);
    const value = String.UTF8.encode(header.value);
    unchecked((names[i] = name));
    unchecked((values[i] = value));
    size += name.byteLength + value.byteLength + 2;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, count);
  let sizes = base + 4;
  let data = base + <usize>4 + <usize>8 * count;
  for (let i = 0; i < count; i++) {
    const name = unchecked(names[i]);
    const value = unchecked(values[i]);
    store<u32>(sizes, name.byteLength);
    store<u32>(sizes + 4, value.byteLength);
    sizes += 8;
    memory.copy(data, changetype<usize>(name), name.byteLength);
    data += name.byteLength;
    store<u8>(data++, 0);
    memory.copy(data, changetype<usize>(value), value.byteLength);
    data += value.byteLength;
    store<u8>(data++, 0);
  }
  return out;
}

/**
 * Decodes the pairs format with Envoy's strictness: any size beyond the data, a missing NUL or
 * trailing bytes gives an empty list, never a trap.
 */
export function deserializeHeaders(buffer: ArrayBuffer): Array<Header> {
  const out = new Array<Header>();
  const total = <usize>buffer.byteLength;
  if (total < 4) return out;
  const base = changetype<usize>(buffer);
  const count = <usize>load<u32>(base);
  if (count == 0) return out;
  if (count > 1024 || <usize>4 + <usize>8 * count > total) return out;
  let data = base + <usize>4 + <usize>8 * count;
  const end = base + total;
  for (let i: usize = 0; i < count; i++) {
    const nameSize = <usize>load<u32>(base + 4 + 8 * i);
    const valueSize = <usize>load<u32>(base + 8 + 8 * i);
    if (data + nameSize + 1 > end || load<u8>(data + nameSize) != 0) return new Array<Header>();
    const name = decodeUtf8(data, nameSize);
    data += nameSize + 1;
    if (data + valueSize + 1 > end || load<u8>(data + valueSize) != 0) return new Array<Header>();
    const value = decodeUtf8(data, valueSize);
    data += valueSize + 1;
    out.push(new Header(name, value));
  }
  if (data != end) return new Array<Header>();
  return out;
}

/**
 * Values of every header named `name` (lower-case UTF-8 bytes) in a pairs buffer, read in place:
 * only matching values become strings. Malformed input gives what was read before the fault.
 */
export function headerValues(buffer: ArrayBuffer, name: ArrayBuffer): Array<string> {
  const out = new Array<string>();
  const total = <usize>buffer.byteLength;
  if (total < 4) return out;
  const base = changetype<usize>(buffer);
  const count = <usize>load<u32>(base);
  if (count > 1024 || <usize>4 + <usize>8 * count > total) return out;
  const wanted = changetype<usize>(name);
  const wantedSize = <usize>name.byteLength;
  let data = base + <usize>4 + <usize>8 * count;
  const end = base + total;
  for (let i: usize = 0; i < count; i++) {
    const nameSize = <usize>load<u32>(base + 4 + 8 * i);
    const valueSize = <usize>load<u32>(base + 8 + 8 * i);
    if (data + nameSize + valueSize + 2 > end) return out;
    if (nameSize == wantedSize && memory.compare(data, wanted, wantedSize) == 0) {
      out.push(decodeUtf8(data + nameSize + 1, valueSize));
    }
    data += nameSize + valueSize + 2;
  }
  return out;
}
