import { lowerAscii, indexOfAsciiCaseless, asciiMatches, decodeUtf8, decodeUtf8Recent } from "../../shared/text/index";

describe("lowerAscii", () => {
  it("folds A-Z only, leaving other characters as they are", () => {
    expect(lowerAscii("Content-Type: Application/JSON")).toBe("content-type: application/json");
    expect(lowerAscii("X-API-KEY")).toBe("x-api-key");
    expect(lowerAscii("ÀÉ-Straße")).toBe("ÀÉ-straße");
    expect(lowerAscii("")).toBe("");
  });

  it("returns the string itself when nothing needs folding", () => {
    const text = "already lower-case";
    expect(changetype<usize>(lowerAscii(text))).toBe(changetype<usize>(text));
  });
});

describe("indexOfAsciiCaseless", () => {
  it("finds a lower-case needle whatever the case of the text, first occurrence first", () => {
    expect(indexOfAsciiCaseless("Application/JSON; charset=utf-8", "json")).toBe(12);
    expect(indexOfAsciiCaseless("text/Event-Stream", "event-stream")).toBe(5);
    expect(indexOfAsciiCaseless("jsonjson", "json")).toBe(0);
    expect(indexOfAsciiCaseless("JSO", "json")).toBe(-1);
    expect(indexOfAsciiCaseless("", "json")).toBe(-1);
    expect(indexOfAsciiCaseless("abc", "")).toBe(0);
  });

  it("folds only A-Z: other characters must match exactly", () => {
    expect(indexOfAsciiCaseless("a[b", "a{b")).toBe(-1);
    expect(indexOfAsciiCaseless("ÀB", "àb")).toBe(-1);
  });
});

/** `text` with its character at `at` replaced by `c`. */
function withCharAt(text: string, at: i32, c: string): string {
  return text.substring(0, at) + c + text.substring(at + 1);
}

describe("asciiMatches", () => {
  it("is true for the same text at every length around the four-byte groups, and false for a difference at any position", () => {
    for (let length = 0; length < 14; length++) {
      const text = "abcdefghijklmnop".substring(0, length);
      const bytes = String.UTF8.encode(text);
      expect(asciiMatches(text, changetype<usize>(bytes), <usize>length)).toBe(true);
      for (let at = 0; at < length; at++) {
        const other = String.UTF8.encode(withCharAt(text, at, "X"));
        expect(asciiMatches(text, changetype<usize>(other), <usize>length)).toBe(false);
      }
      // One byte more or fewer is another length.
      if (length > 0) expect(asciiMatches(text, changetype<usize>(bytes), <usize>length - 1)).toBe(false);
    }
  });
});

describe("decodeUtf8", () => {
  it("reads ASCII of every length around a word, and anything else as the standard decoder does", () => {
    const samples = ["", "a", "qwen-max", "application/json", "chat_quota:aliyun-user1", "zü", "模型-名", "x\u0000y", "emoji 😀 end"];
    for (let pad = 0; pad < 17; pad++) {
      for (let i = 0; i < samples.length; i++) {
        const text = "k".repeat(pad) + samples[i];
        const bytes = String.UTF8.encode(text);
        expect(decodeUtf8(changetype<usize>(bytes), <usize>bytes.byteLength)).toBe(String.UTF8.decode(bytes));
      }
    }
  });

  it("reads invalid UTF-8 as the standard decoder does", () => {
    const bytes = new ArrayBuffer(12);
    for (let i = 0; i < 12; i++) store<u8>(changetype<usize>(bytes) + i, i == 9 ? 0xff : 0x61);
    expect(decodeUtf8(changetype<usize>(bytes), 12)).toBe(String.UTF8.decode(bytes));
  });
});

function recentOf(text: string): string {
  const bytes = String.UTF8.encode(text);
  return decodeUtf8Recent(changetype<usize>(bytes), <usize>bytes.byteLength);
}

describe("decodeUtf8Recent", () => {
  it("gives a value seen lately back as the same string, and every value correctly while more than eight cycle", () => {
    const first = recentOf("application/json");
    expect(changetype<usize>(recentOf("application/json"))).toBe(changetype<usize>(first));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 12; i++) expect(recentOf("route-" + i.toString())).toBe("route-" + i.toString());
    }
    expect(recentOf("application/jso")).toBe("application/jso");
    expect(recentOf("application/jsoN")).toBe("application/jsoN");
  });

  it("decodes non-ASCII and long values afresh, correctly", () => {
    const wide = recentOf("模型");
    expect(wide).toBe("模型");
    expect(changetype<usize>(recentOf("模型"))).not.toBe(changetype<usize>(wide));
    const long = "k".repeat(200);
    expect(recentOf(long)).toBe(long);
    expect(recentOf("")).toBe("");
  });
});
