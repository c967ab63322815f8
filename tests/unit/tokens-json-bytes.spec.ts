/// <reference path="./as-pect.d.ts" />
// Unit tests of the whole-text JSON helpers the request reader walks with.
import { skipString, skipValue } from "../../shared/tokens/json-bytes";

/** skipString over `text` from its first byte (an opening quote). */
function skipped(text: string): i32 {
  const bytes = String.UTF8.encode(text);
  return skipString(changetype<usize>(bytes), bytes.byteLength, 0);
}

describe("skipString", () => {
  it("ends after the closing quote, passing escaped quotes and backslashes wherever they fall", () => {
    expect(skipped('""')).toBe(2);
    expect(skipped('"a",')).toBe(3);
    for (let pad = 0; pad < 20; pad++) {
      const body = "x".repeat(pad);
      expect(skipped('"' + body + '\\"' + body + '" tail')).toBe(2 * pad + 4);
      expect(skipped('"' + body + "\\\\" + '"' + body)).toBe(pad + 4);
    }
  });

  it("answers -1 for a string cut off, even by an escape in its last byte", () => {
    expect(skipped('"')).toBe(-1);
    expect(skipped('"unterminated')).toBe(-1);
    expect(skipped('"ends with a backslash\\')).toBe(-1);
    expect(skipped('"escaped quote at the end\\"')).toBe(-1);
  });

  it("lets skipValue pass strings inside containers, brackets in them included", () => {
    const bytes = String.UTF8.encode('{"a":"}]\\"[{","b":[1,"]"]} rest');
    expect(skipValue(changetype<usize>(bytes), bytes.byteLength, 0)).toBe(bytes.byteLength - " rest".length);
  });
});
