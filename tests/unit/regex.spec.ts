import { RandomText } from "./support/random";
import { compileRegex } from "../../shared/regex/index";

/** [pattern, subject, expected] from RE2/Go MatchString semantics (unanchored search). */
const CASES: Array<Array<string>> = [
  ["abc", "xxabcxx", "1"],
  ["^abc", "xabc", "0"],
  ["abc$", "abcx", "0"],
  ["^abc$", "abc", "1"],
  ["a.c", "a\nc", "0"],
  ["a.c", "abc", "1"],
  ["^user-[0-9]+$", "user-42", "1"],
  ["^user-[0-9]+$", "user-", "0"],
  ["[^a-z]", "abc", "0"],
  ["[^a-z]", "abC", "1"],
  ["\\d{3}-\\d{4}", "call 555-1234 now", "1"],
  ["^a{2,3}$", "aaaa", "0"],
  ["^a{2,}$", "aaaaa", "1"],
  ["^a{2}$", "aa", "1"],
  ["^(foo|bar)+$", "foobarfoo", "1"],
  ["^(?:foo|bar)baz$", "barbaz", "1"],
  ["(?i)^KEY-abc$", "key-ABC", "1"],
  ["^key-abc$", "KEY-abc", "0"],
  ["\\bword\\b", "a word here", "1"],
  ["\\bword\\b", "swordfish", "0"],
  ["colou?r", "color", "1"],
  ["a*?b", "aaab", "1"],
  ["^\\w+@\\w+\\.com$", "me@host.com", "1"],
  ["[\\s]", "a b", "1"],
  ["^$", "", "1"],
  ["x*", "", "1"],
  ["a{,3}", "a{,3}", "1"],
  ["^[a\\-z]$", "-", "1"],
  ["^.$", "é", "1"],
  ["^.$", "😀", "1"],
  ["^[😀-😂]$", "😁", "1"],
  ["\\.", "a.b", "1"],
  ["\\.", "ab", "0"],
];

describe("compileRegex", () => {
  it("matches like RE2's unanchored search", () => {
    for (let i = 0; i < CASES.length; i++) {
      const c = CASES[i];
      const result = compileRegex(c[0]);
      expect(result.error).toBe("", c[0]);
      expect(result.regex!.test(c[1])).toBe(c[2] == "1", c[0] + " on " + c[1]);
    }
  });

  it("names unsupported syntax", () => {
    expect(compileRegex("(a)\\1").error).toBe("backreferences are not supported");
    expect(compileRegex("a(?=b)").error).toBe("lookaround is not supported");
    expect(compileRegex("(?<!a)b").error).toBe("lookaround is not supported");
    expect(compileRegex("a++").error).toBe("possessive quantifiers are not supported");
    expect(compileRegex("(ab").error).toBe("missing closing )");
    expect(compileRegex("ab)").error).toBe("unexpected ')' at offset 2");
    expect(compileRegex("[ab").error).toBe("missing closing ]");
    expect(compileRegex("*a").error).toBe("missing argument to repetition operator");
    expect(compileRegex("a**").error).toBe("invalid nested repetition operator");
    expect(compileRegex("a{3,2}").error).toBe("invalid repeat count");
    expect(compileRegex("a{1001}").error).toBe("invalid repeat count");
    expect(compileRegex("\\q").error).toBe("invalid escape sequence \\q");
    expect(compileRegex("[z-a]").error).toBe("invalid character class range");
  });

  it("refuses programs that {n,m} would blow up", () => {
    expect(compileRegex("((a{1000}){1000}){1000}").error).toBe("expression too large");
  });

  it("runs catastrophic-backtracking patterns in linear time", () => {
    const subject = "a".repeat(10000);
    const nested = compileRegex("(a+)+$").regex!;
    expect(nested.test(subject + "!")).toBe(false);
    const alternated = compileRegex("(a|aa)*b").regex!;
    expect(alternated.test(subject)).toBe(false);
    const empty = compileRegex("(a*)*c").regex!;
    expect(empty.test(subject)).toBe(false);
  });

  it("never traps on random patterns and subjects", () => {
    const random = new RandomText(521288629);
    for (let round = 0; round < 4000; round++) {
      const pattern = random.string("ab()[]{}*+?|^$.\\-,0123dws:=!<", 14);
      const result = compileRegex(pattern);
      if (result.regex !== null) result.regex!.test("ab-12 ab");
    }
    expect(true).toBe(true);
  });
});
