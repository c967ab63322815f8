import { RandomText } from "./support/random";
import { splitPath, decodeComponent, parseQuery, getQueryValues, hasInvalid } from "../../shared/url/index";

describe("splitPath", () => {
  it("splits the query off and drops a fragment", () => {
    const p = splitPath("/v1/chat?apikey=x&a=b#frag");
    expect(p.path).toBe("/v1/chat");
    expect(p.query).toBe("apikey=x&a=b");
    expect(splitPath("/only").query).toBe("");
    expect(splitPath("/a#x?y").query).toBe("");
  });
});

describe("decodeComponent", () => {
  it("decodes percent escapes as UTF-8 and + as a space in forms", () => {
    expect(decodeComponent("a%20b+c", true)!).toBe("a b c");
    expect(decodeComponent("a+b", false)!).toBe("a+b");
    expect(decodeComponent("z%C3%BCrich", false)!).toBe("zürich");
  });

  it("returns null for a bad escape", () => {
    expect(decodeComponent("%zz", true)).toBeNull();
    expect(decodeComponent("abc%", true)).toBeNull();
    expect(decodeComponent("%4", true)).toBeNull();
  });
});

describe("parseQuery", () => {
  it("keeps every value of a repeated name, empty ones included, case-sensitively", () => {
    const params = parseQuery("apikey=a&apikey=&APIKEY=c&other");
    expect(getQueryValues(params, "apikey").join("|")).toBe("a|");
    expect(getQueryValues(params, "other").join("|")).toBe("");
    expect(getQueryValues(params, "APIKEY").join("|")).toBe("c");
  });

  it("marks a bad escape or a semicolon as invalid instead of dropping it silently", () => {
    const params = parseQuery("apikey=%zz&b=1;c=2&ok=1");
    expect(hasInvalid(params)).toBe(true);
    expect(getQueryValues(params, "apikey").length).toBe(0);
    expect(getQueryValues(params, "ok").join("")).toBe("1");
  });

  it("never traps on random input", () => {
    const random = new RandomText(2463534242);
    for (let round = 0; round < 3000; round++) {
      const s = random.string("%&=+;a1F\u00e9\u{1F600}", 24);
      parseQuery(s);
      decodeComponent(s, true);
      splitPath(s);
    }
    expect(true).toBe(true);
  });
});
