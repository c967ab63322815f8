/** Host side of the pairs format (§3.1) and of property paths (§3.3). */
import type { HeaderList } from "./stream-api.ts";

export function encodePairs(headers: HeaderList): Uint8Array {
  const parts = headers.map(([k, v]) => [Buffer.from(k, "utf8"), Buffer.from(v, "utf8")]);
  const size = 4 + 8 * parts.length + parts.reduce((s, [k, v]) => s + k.length + v.length + 2, 0);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(parts.length, 0);
  let off = 4 + 8 * parts.length;
  parts.forEach(([k, v], i) => {
    out.writeUInt32LE(k.length, 4 + 8 * i);
    out.writeUInt32LE(v.length, 8 + 8 * i);
    k.copy(out, off);
    off += k.length + 1;
    v.copy(out, off);
    off += v.length + 1;
  });
  return out;
}

/** Envoy's strict parser: anything malformed is an empty list, silently. */
export function decodePairs(data: Uint8Array): HeaderList {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length === 0 || (buf.length === 1 && buf[0] === 0)) return [];
  if (buf.length < 4) return [];
  const count = buf.readUInt32LE(0);
  if (count > 1024 || buf.length > 1 << 20 || 4 + 8 * count > buf.length) return [];
  const out: HeaderList = [];
  let off = 4 + 8 * count;
  for (let i = 0; i < count; i++) {
    const kl = buf.readUInt32LE(4 + 8 * i);
    const vl = buf.readUInt32LE(8 + 8 * i);
    if (off + kl + 1 > buf.length || buf[off + kl] !== 0) return [];
    const k = buf.toString("utf8", off, off + kl);
    off += kl + 1;
    if (off + vl + 1 > buf.length || buf[off + vl] !== 0) return [];
    const v = buf.toString("utf8", off, off + vl);
    off += vl + 1;
    out.push([k, v]);
  }
  return off === buf.length ? out : [];
}

/** Segments split on NUL; one trailing NUL is tolerated as Envoy does. */
export function decodePropertyPath(data: Uint8Array): string[] {
  let text = Buffer.from(data).toString("utf8");
  if (text.endsWith("\0")) text = text.slice(0, -1);
  return text.split("\0");
}

export function encodePropertyPath(path: string[]): Uint8Array {
  return Buffer.from(path.join("\0"), "utf8");
}

export function int64(value: number | bigint): Uint8Array {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(BigInt(value));
  return out;
}
