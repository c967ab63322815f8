import { RandomText } from "./support/random";
import { parseIp, parseCidr, hostFromAddress } from "../../shared/net/index";

function canonical(text: string): string {
  const ip = parseIp(text);
  return ip === null ? "null" : ip.toString();
}

describe("parseIp", () => {
  it("reads IPv4 and IPv6, printing Go's canonical form", () => {
    expect(canonical("192.168.0.1")).toBe("192.168.0.1");
    expect(canonical("2001:DB8:0:0:0:0:0:1")).toBe("2001:db8::1");
    expect(canonical("::1")).toBe("::1");
    expect(canonical("::")).toBe("::");
    expect(canonical("fe80::1:0:0:2")).toBe("fe80::1:0:0:2");
    expect(canonical("1:0:0:2:0:0:0:3")).toBe("1:0:0:2::3");
    expect(canonical("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(canonical("64:ff9b::10.0.0.1")).toBe("64:ff9b::a00:1");
  });

  it("refuses what Go refuses", () => {
    const bad = ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4:80", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "[::1]", "unknown"];
    for (let i = 0; i < bad.length; i++) expect(parseIp(bad[i])).toBeNull(bad[i]);
  });
});

describe("parseCidr", () => {
  it("matches addresses in the prefix; a bare address is /32 or /128; host bits are tolerated", () => {
    const net = parseCidr("10.1.2.3/16")!;
    expect(net.contains(parseIp("10.1.200.9")!)).toBe(true);
    expect(net.contains(parseIp("10.2.0.1")!)).toBe(false);
    expect(parseCidr("1.1.1.1")!.contains(parseIp("1.1.1.1")!)).toBe(true);
    expect(parseCidr("1.1.1.1")!.contains(parseIp("1.1.1.2")!)).toBe(false);
    expect(parseCidr("2001:db8::/32")!.contains(parseIp("2001:db8:ffff::1")!)).toBe(true);
    expect(parseCidr("2001:db8::/32")!.contains(parseIp("2001:db9::1")!)).toBe(false);
    expect(parseCidr("0.0.0.0/0")!.contains(parseIp("8.8.8.8")!)).toBe(true);
  });

  it("rejects malformed prefixes", () => {
    expect(parseCidr("1.1.1.1/33")).toBeNull();
    expect(parseCidr("1.1.1.1/")).toBeNull();
    expect(parseCidr("::/129")).toBeNull();
    expect(parseCidr("x/8")).toBeNull();
  });
});

describe("hostFromAddress", () => {
  it("strips ports and brackets the way Higress does", () => {
    expect(hostFromAddress("1.2.3.4:5678")!.toString()).toBe("1.2.3.4");
    expect(hostFromAddress("[2001:db8::1]:443")!.toString()).toBe("2001:db8::1");
    expect(hostFromAddress("2001:db8::1")!.toString()).toBe("2001:db8::1");
    expect(hostFromAddress("unknown")).toBeNull();
    // Higress keeps the text before the first ':' when there is a '.', so this mapped form fails as there.
    expect(hostFromAddress("::ffff:1.2.3.4")).toBeNull();
  });

  it("never traps on random input", () => {
    const random = new RandomText(362436069);
    for (let round = 0; round < 5000; round++) {
      const s = random.string("0123456789abcdef:.[]/ ", 24);
      parseIp(s);
      parseCidr(s);
      hostFromAddress(s);
    }
    expect(true).toBe(true);
  });
});
