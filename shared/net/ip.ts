/** IPv4/IPv6 addresses and CIDR prefixes, parsed without traps, printed the way Go prints them. */

/** 16 bytes; an IPv4 address is stored IPv4-mapped (::ffff:a.b.c.d) with `v4` set. */
export class IpAddress {
  bytes: StaticArray<u8> = new StaticArray<u8>(16);
  v4: bool = false;

  /** Go's canonical text: dotted IPv4 (also for IPv4-mapped IPv6), RFC 5952 IPv6. */
  toString(): string {
    const b = this.bytes;
    if (this.v4 || isMapped(b)) {
      return unchecked(b[12]).toString() + "." + unchecked(b[13]).toString() + "." + unchecked(b[14]).toString() + "." + unchecked(b[15]).toString();
    }
    // The longest run of two or more zero groups becomes "::".
    let bestStart = -1;
    let bestLength = 0;
    for (let i = 0; i < 8; ) {
      if (group(b, i) != 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < 8 && group(b, j) == 0) j++;
      if (j - i > bestLength && j - i >= 2) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    let out = "";
    for (let i = 0; i < 8; i++) {
      if (i == bestStart) {
        out += "::";
        i += bestLength - 1;
        continue;
      }
      if (out.length > 0 && !out.endsWith(":")) out += ":";
      out += (<u32>group(b, i)).toString(16);
    }
    return out;
  }
}

function group(b: StaticArray<u8>, i: i32): u16 {
  return (<u16>unchecked(b[2 * i]) << 8) | <u16>unchecked(b[2 * i + 1]);
}

function isMapped(b: StaticArray<u8>): bool {
  for (let i = 0; i < 10; i++) if (unchecked(b[i]) != 0) return false;
  return unchecked(b[10]) == 0xff && unchecked(b[11]) == 0xff;
}

/** Writes a dotted quad into bytes[at..at+4]; false when it is not exactly four decimal octets. */
function parseV4Into(text: string, out: StaticArray<u8>, at: i32): bool {
  const parts = text.split(".");
  if (parts.length != 4) return false;
  for (let i = 0; i < 4; i++) {
    const part = unchecked(parts[i]);
    if (part.length == 0 || part.length > 3) return false;
    // Go rejects leading zeros (ambiguous octal).
    if (part.length > 1 && part.charCodeAt(0) == 0x30) return false;
    let value = 0;
    for (let k = 0; k < part.length; k++) {
      const c = part.charCodeAt(k);
      if (c < 0x30 || c > 0x39) return false;
      value = value * 10 + (c - 0x30);
    }
    if (value > 255) return false;
    unchecked((out[at + i] = <u8>value));
  }
  return true;
}

function parseHexGroup(text: string): i32 {
  if (text.length == 0 || text.length > 4) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let d = -1;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    if (d < 0) return -1;
    value = value * 16 + d;
  }
  return value;
}

function parseV6Into(text: string, out: StaticArray<u8>): bool {
  const gap = text.indexOf("::");
  if (gap >= 0 && text.indexOf("::", gap + 1) >= 0) return false;
  const head = gap < 0 ? text : text.slice(0, gap);
  const tail = gap < 0 ? "" : text.slice(gap + 2);
  const groups = new Array<i32>();
  const headGroups = head.length == 0 ? new Array<string>() : head.split(":");
  const tailGroups = tail.length == 0 ? new Array<string>() : tail.split(":");
  const v4 = new StaticArray<u8>(4);
  let tailCount = 0;
  for (let side = 0; side < 2; side++) {
    const list = side == 0 ? headGroups : tailGroups;
    for (let i = 0; i < list.length; i++) {
      const g = unchecked(list[i]);
      const last = side == (tail.length > 0 || gap >= 0 ? 1 : 0) && i == list.length - 1;
      if (g.includes(".") && (last || (gap < 0 && side == 0 && i == list.length - 1))) {
        if (!parseV4Into(g, v4, 0)) return false;
        groups.push((<i32>v4[0] << 8) | v4[1]);
        groups.push((<i32>v4[2] << 8) | v4[3]);
        if (side == 1) tailCount += 2;
        continue;
      }
      const value = parseHexGroup(g);
      if (value < 0) return false;
      groups.push(value);
      if (side == 1) tailCount++;
    }
  }
  if (gap < 0 && groups.length != 8) return false;
  if (gap >= 0 && groups.length > 7) return false;
  const headCount = groups.length - tailCount;
  for (let i = 0; i < headCount; i++) {
    unchecked((out[2 * i] = <u8>(groups[i] >> 8)));
    unchecked((out[2 * i + 1] = <u8>groups[i]));
  }
  for (let i = 0; i < tailCount; i++) {
    const slot = 8 - tailCount + i;
    const value = groups[headCount + i];
    unchecked((out[2 * slot] = <u8>(value >> 8)));
    unchecked((out[2 * slot + 1] = <u8>value));
  }
  return true;
}

/** An IPv4 or IPv6 address; null when `text` is neither (no zones, no brackets). */
export function parseIp(text: string): IpAddress | null {
  const ip = new IpAddress();
  if (text.includes(":")) {
    return parseV6Into(text, ip.bytes) ? ip : null;
  }
  if (!parseV4Into(text, ip.bytes, 12)) return null;
  unchecked((ip.bytes[10] = 0xff));
  unchecked((ip.bytes[11] = 0xff));
  ip.v4 = true;
  return ip;
}

/** A prefix; host bits past the prefix are ignored, as Higress tolerates them. */
export class Cidr {
  constructor(public base: IpAddress, public bits: i32) {}

  /** Whether `ip` falls in the prefix (IPv4 prefixes compare the IPv4-mapped form). */
  contains(ip: IpAddress): bool {
    const total = this.base.v4 ? this.bits + 96 : this.bits;
    const full = total >> 3;
    for (let i = 0; i < full; i++) if (unchecked(this.base.bytes[i]) != unchecked(ip.bytes[i])) return false;
    const rest = total & 7;
    if (rest == 0) return true;
    const mask = <u8>(<u32>0xff << <u32>(8 - rest));
    return (unchecked(this.base.bytes[full]) & mask) == (unchecked(ip.bytes[full]) & mask);
  }
}

/** `a.b.c.d/n`, `x::y/n`, or a bare address (/32 or /128); null when malformed. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (ip === null) return null;
  const max = ip.v4 ? 32 : 128;
  if (slash < 0) return new Cidr(ip, max);
  const bitsText = text.slice(slash + 1);
  if (bitsText.length == 0 || bitsText.length > 3) return null;
  let bits = 0;
  for (let i = 0; i < bitsText.length; i++) {
    const c = bitsText.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
    bits = bits * 10 + (c - 0x30);
  }
  return bits > max ? null : new Cidr(ip, bits);
}

/**
 * Higress's per-IP normalisation: with a "." keep what precedes the first ":" (drops a port);
 * else with a "]" take what is between "[" and "]"; then parse. Null when that is not an IP.
 */
export function hostFromAddress(value: string): IpAddress | null {
  let host = value;
  if (host.includes(".")) {
    const colon = host.indexOf(":");
    if (colon >= 0) host = host.slice(0, colon);
  } else if (host.includes("]")) {
    const open = host.indexOf("[");
    const close = host.indexOf("]");
    if (open < 0 || close < open) return null;
    host = host.slice(open + 1, close);
  }
  return parseIp(host);
}
