/** RESP2 framing for the host: where one top-level reply ends in a byte stream, and a command encoder. */

export const INCOMPLETE = -1;
export const PROTOCOL_ERROR = -2;

function lineEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return INCOMPLETE;
}

function readInt(buf: Uint8Array, from: number, to: number): number | null {
  const text = Buffer.from(buf.subarray(from, to)).toString("latin1");
  return /^-?\d+$/.test(text) ? Number(text) : null;
}

/**
 * Length in bytes of the first complete RESP2 reply in `buf` starting at `from`,
 * INCOMPLETE when more bytes are needed, PROTOCOL_ERROR for a byte RESP2 does not allow
 * (RESP3-only types included, as Envoy's decoder).
 */
export function frameLength(buf: Uint8Array, from = 0): number {
  if (from >= buf.length) return INCOMPLETE;
  const type = buf[from];
  const end = lineEnd(buf, from + 1);
  if (end === INCOMPLETE) return INCOMPLETE;
  const header = end + 2 - from;
  switch (type) {
    case 0x2b: // +
    case 0x2d: // -
      return header;
    case 0x3a: // :
      return readInt(buf, from + 1, end) === null ? PROTOCOL_ERROR : header;
    case 0x24: { // $
      const n = readInt(buf, from + 1, end);
      if (n === null || n < -1) return PROTOCOL_ERROR;
      if (n === -1) return header;
      if (buf.length < from + header + n + 2) return INCOMPLETE;
      if (buf[from + header + n] !== 13 || buf[from + header + n + 1] !== 10) return PROTOCOL_ERROR;
      return header + n + 2;
    }
    case 0x2a: { // *
      const n = readInt(buf, from + 1, end);
      if (n === null || n < -1) return PROTOCOL_ERROR;
      let offset = from + header;
      for (let i = 0; i < n; i++) {
        const len = frameLength(buf, offset);
        if (len < 0) return len;
        offset += len;
      }
      return offset - from;
    }
    default:
      return PROTOCOL_ERROR;
  }
}

/** One command as an array of bulk strings. */
export function encodeCommand(args: Array<string | number | Uint8Array>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" || typeof arg === "number" ? Buffer.from(String(arg), "utf8") : Buffer.from(arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

export type RespValue = string | number | null | Error | RespValue[];

/** Decodes one complete reply (for test readers; the bridge never re-encodes replies). */
export function decodeReply(buf: Uint8Array, from = 0): { value: RespValue; length: number } {
  const len = frameLength(buf, from);
  if (len < 0) throw new Error(len === INCOMPLETE ? "incomplete reply" : "protocol error");
  const end = lineEnd(buf, from + 1);
  const line = Buffer.from(buf.subarray(from + 1, end)).toString("utf8");
  switch (buf[from]) {
    case 0x2b:
      return { value: line, length: len };
    case 0x2d:
      return { value: new Error(line), length: len };
    case 0x3a:
      return { value: Number(line), length: len };
    case 0x24: {
      const n = Number(line);
      if (n === -1) return { value: null, length: len };
      return { value: Buffer.from(buf.subarray(end + 2, end + 2 + n)).toString("utf8"), length: len };
    }
    default: {
      const n = Number(line);
      if (n === -1) return { value: null, length: len };
      const items: RespValue[] = [];
      let offset = end + 2;
      for (let i = 0; i < n; i++) {
        const item = decodeReply(buf, offset);
        items.push(item.value);
        offset += item.length;
      }
      return { value: items, length: len };
    }
  }
}
