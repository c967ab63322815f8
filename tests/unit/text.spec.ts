import { lowerAscii } from "../../shared/text/index";

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
