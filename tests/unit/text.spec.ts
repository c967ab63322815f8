import { lowerAscii, decodeUtf8 } from "../../shared/text/index";

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
