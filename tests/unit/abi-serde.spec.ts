import { Header, serializeHeaders, deserializeHeaders, headerValues } from "../../shared/abi/serde";
import { RandomText } from "./support/random";

function bytes(list: Array<u8>): ArrayBuffer {
  const out = new ArrayBuffer(list.length);
  for (let i = 0; i < list.length; i++) store<u8>(changetype<usize>(out) + i, list[i]);
  return out;
}

describe("header-map pairs", () => {
  it("round-trips names and values, UTF-8 included", () => {
    const headers = [new Header(":path", "/v1/chat/completions"), new Header("x-name", "zürich"), new Header("empty", "")];
    const back = deserializeHeaders(serializeHeaders(headers));
    expect(back.length).toBe(3);
    expect(back[0].name).toBe(":path");
    expect(back[1].value).toBe("zürich");
    expect(back[2].value).toBe("");
  });

  it("encodes the layout of the spec: count, sizes, then NUL-terminated bytes", () => {
    const out = serializeHeaders([new Header("a", "1")]);
    expect(out.byteLength).toBe(4 + 8 + 2 + 2);
    expect(load<u32>(changetype<usize>(out))).toBe(1);
    expect(load<u8>(changetype<usize>(out) + 12)).toBe(0x61);
    expect(load<u8>(changetype<usize>(out) + 13)).toBe(0);
    expect(load<u8>(changetype<usize>(out) + 14)).toBe(0x31);
  });

  it("reads an empty buffer and a zero count as no headers", () => {
    expect(deserializeHeaders(new ArrayBuffer(0)).length).toBe(0);
    expect(deserializeHeaders(bytes([0, 0, 0, 0])).length).toBe(0);
  });

  it("gives an empty list, never a trap, for a missing NUL, trailing bytes or sizes past the end", () => {
    expect(deserializeHeaders(bytes([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x61, 1, 0x31, 0])).length).toBe(0);
    expect(deserializeHeaders(bytes([1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x61, 0, 0x31, 0, 9])).length).toBe(0);
    expect(deserializeHeaders(bytes([1, 0, 0, 0, 200, 0, 0, 0, 1, 0, 0, 0, 0x61, 0])).length).toBe(0);
    expect(deserializeHeaders(bytes([255, 255, 255, 255])).length).toBe(0);
  });

  it("finds every value of one name in place, and nothing in a malformed buffer", () => {
    const pairs = serializeHeaders([new Header("x-api-key", "a"), new Header("host", "h"), new Header("x-api-key", "b")]);
    expect(headerValues(pairs, String.UTF8.encode("x-api-key")).join(",")).toBe("a,b");
    expect(headerValues(pairs, String.UTF8.encode("x-api")).length).toBe(0);
    expect(headerValues(bytes([9, 0, 0, 0]), String.UTF8.encode("x")).length).toBe(0);
  });

  it("never traps on random bytes", () => {
    const random = new RandomText(2463534242);
    for (let round = 0; round < 2000; round++) {
      const size = <i32>(random.next() % 64);
      const buf = new ArrayBuffer(size);
      for (let i = 0; i < size; i++) {
        const seed = random.next();
        // Small counts and sizes make the parser walk deep into the buffer.
        store<u8>(changetype<usize>(buf) + i, <u8>(i % 4 == 0 ? seed % 4 : seed));
      }
      deserializeHeaders(buf);
      headerValues(buf, String.UTF8.encode("a"));
    }
    expect(true).toBe(true);
  });
});
