import { RandomText } from "./support/random";
import { compileRegex, Found, MatchBudget, MAX_STATES, MATCH_STEPS_PER_REQUEST, POSITION_STEPS } from "../../shared/regex/index";
import { Parser } from "../../shared/regex/parse";
import { statesOf, ProgramBuilder, OP_MATCH } from "../../shared/regex/program";

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
  ["^a|b", "xb", "1"],
  ["^a|b", "xa", "0"],
  ["(?:^)?a", "ba", "1"],
  ["x+y", "xxxy", "1"],
  ["^(ab)+$", "ababab", "1"],
  ["^(ab)+$", "abab a", "0"],
  ["^(ab){2,}$", "ab", "0"],
  ["^(ab){2,}$", "ababab", "1"],
  ["(a*)+b", "aab", "1"],
  ["(?i)[^a]", "A", "0"],
  ["(?i)[a-c]+$", "xABC", "1"],
  ["(?i)é", "é", "1"],
  ["$^", "", "1"],
  ["^$", "a", "0"],
  ["\\B", "ab", "1"],
  ["\\Ba", "a", "0"],
  ["a\\b", "a", "1"],
  ["^[^x]$", "\u{10000}", "1"],
];

/** Realistic keys and the states each compiles to: all far below MAX_STATES. */
const REALISTIC: Array<Array<string>> = [
  ["^user-[a-z0-9]+$", "14"],
  ["^10\\.0\\.\\d{1,3}\\.\\d{1,3}$", "19"],
  ["^192\\.168\\.", "10"],
  ["(?i)^key-[0-9a-f]{8}$", "23"],
  ["^sk-[A-Za-z0-9]{48}$", "150"],
  ["^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", "71"],
  ["^(aliyun-admin|aliyun-user1|aliyun-user2)$", "43"],
  ["-(prod|staging)$", "16"],
  ["^Bearer [A-Za-z0-9._~+/-]+=*$", "33"],
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

  it("refuses a program over MAX_STATES, saying how large it is", () => {
    expect(MAX_STATES).toBe(2000);
    const attack = compileRegex("(a|b){0,500}c");
    expect(attack.regex).toBeNull();
    expect(attack.tooLarge).toBe(true);
    expect(attack.error).toBe("compiles to 2502 states, more than 2000");
    expect(attack.describe()).toBe("compiles to 2502 states, more than 2000");
    expect(compileRegex("a{1000}a{1000}").error).toBe("compiles to 2001 states, more than 2000");
    expect(compileRegex("(a|b){0,400}c").error).toBe("compiles to 2002 states, more than 2000");
    expect(compileRegex("((a{1000}){1000}){1000}").error).toBe("compiles to 1000000001 states, more than 2000");
    expect(compileRegex("((((a{1000}){1000}){1000}){1000}){1000}").error).toBe("compiles to at least 1000000000000 states, more than 2000");
    expect(compileRegex("(ab").describe()).toBe("does not compile: missing closing )");
  });

  it("accepts a program of MAX_STATES states, and counted repetitions up to 1000 (as RE2)", () => {
    expect(compileRegex("a{1000}a{999}").regex!.states).toBe(2000);
    expect(compileRegex("(a|b){0,399}c").regex!.states).toBe(1997);
    expect(compileRegex("a{1000}").regex!.states).toBe(1001);
    expect(compileRegex("a{0,999}").regex!.states).toBe(1999);
    expect(compileRegex("a{1001}").error).toBe("invalid repeat count");
  });

  it("counts a class as one state per range, as a thread on it compares each", () => {
    expect(compileRegex("[a-z0-9_]").regex!.states).toBe(4);
    expect(compileRegex("\\w").regex!.states).toBe(5);
    expect(compileRegex("[0-9a-fA-F]{0,999}").error).toBe("compiles to 3997 states, more than 2000");
    // Every range is charged: a thread on a 3-range class costs 3 steps a character.
    const budget = new MatchBudget(MATCH_STEPS_PER_REQUEST);
    expect(compileRegex("^[0-9a-fA-F]+$").regex!.search("f".repeat(1000), budget)).toBe(Found.Yes);
    expect(MATCH_STEPS_PER_REQUEST - budget.remaining).toBeGreaterThanOrEqual(4000);
  });

  it("compiles every realistic key far below the bound", () => {
    for (let i = 0; i < REALISTIC.length; i++) {
      const result = compileRegex(REALISTIC[i][0]);
      const states = result.regex !== null ? result.regex!.states : -1;
      expect(states.toString()).toBe(REALISTIC[i][1], REALISTIC[i][0]);
    }
    // A list of 100 consumer names of ten or eleven letters.
    const names = new Array<string>();
    for (let i = 0; i < 100; i++) names.push("consumer" + (10 + i).toString());
    expect(compileRegex("^(" + names.join("|") + ")$").regex!.states).toBe(1211);
  });

  it("counts a program's states before emitting it, exactly", () => {
    const random = new RandomText(0x5eed);
    let compared = 0;
    for (let round = 0; round < 4000; round++) {
      const pattern = random.string("ab()[]{}*+?|^$.\\-,0123dws:", 16);
      const parser = new Parser(pattern);
      const tree = parser.parse();
      if (tree === null || statesOf(tree) + 1 > <i64>MAX_STATES) continue;
      const program = new ProgramBuilder(parser.foldCase);
      program.compile(tree);
      program.emit(OP_MATCH, 0, 0);
      // An instruction each, and a class one more per range beyond its first.
      let emitted = program.next;
      for (let i = 0; i < program.classes.length; i++) emitted += program.classes[i].extraSteps;
      expect(statesOf(tree) + 1).toBe(<i64>emitted, pattern);
      compared++;
    }
    expect(compared).toBeGreaterThan(500);
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

  it("spends at most (states + POSITION_STEPS) × (length + 1) steps, linearly in the length", () => {
    const worst = compileRegex("(a|b){0,399}c").regex!;
    const states = <i64>worst.states;
    const spent = new Array<i64>();
    for (let n = 1; n <= 3; n++) {
      const budget = new MatchBudget(i64.MAX_VALUE);
      expect(worst.search("a".repeat(1000 * n), budget)).toBe(Found.No);
      spent.push(i64.MAX_VALUE - budget.remaining);
      expect(spent[n - 1]).toBeLessThanOrEqual((states + POSITION_STEPS) * (1000 * n + 1));
    }
    // Past the first positions (where threads pile up) every 1000 bytes cost the same.
    expect(<f64>(spent[2] - spent[1]) / <f64>(spent[1] - spent[0])).toBeCloseTo(1.0, 3);
  });

  it("decides any value of up to 60 KiB for a key of up to 13 states", () => {
    const key = compileRegex("[a-z]{0,5}xy").regex!;
    expect(key.states).toBe(13);
    const budget = new MatchBudget(MATCH_STEPS_PER_REQUEST);
    expect(key.search("a".repeat(60 * 1024), budget)).toBe(Found.No);
    expect(budget.remaining).toBeGreaterThanOrEqual(0);
  });

  it("stops an anchored search when its threads die, and a search at its first match", () => {
    const anchored = compileRegex("^user-[a-z0-9]+$").regex!;
    const budget = new MatchBudget(100);
    expect(anchored.search("admin-" + "a".repeat(100000), budget)).toBe(Found.No);
    // Two positions: `^` and `u` visited at the first, nothing alive at the second.
    expect(100 - budget.remaining).toBe(2 + 2 * POSITION_STEPS);
    expect(anchored.search("user-" + "a".repeat(100000) + "!", new MatchBudget(100))).toBe(Found.Undecided);
    // Per character: four states visited (jump, split, class, end), one more range, the position (4).
    const long = new MatchBudget(MATCH_STEPS_PER_REQUEST);
    expect(anchored.search("user-" + "a".repeat(12000), long)).toBe(Found.Yes);
    expect(MATCH_STEPS_PER_REQUEST - long.remaining).toBe(108026);
    expect(compileRegex("abc").regex!.search("abc" + "x".repeat(100000), new MatchBudget(100))).toBe(Found.Yes);
  });

  it("is Undecided when the budget runs out first, and one budget serves a request's searches", () => {
    const worst = compileRegex("(a|b){0,399}c").regex!;
    const subject = "a".repeat(100) + "c";
    expect(worst.search(subject, new MatchBudget(1000))).toBe(Found.Undecided);
    expect(worst.search(subject, new MatchBudget(MATCH_STEPS_PER_REQUEST))).toBe(Found.Yes);
    const long = "a".repeat(300);
    const alone = new MatchBudget(MATCH_STEPS_PER_REQUEST);
    expect(worst.search(long, alone)).toBe(Found.No);
    const once = MATCH_STEPS_PER_REQUEST - alone.remaining;
    const shared = new MatchBudget(once + once / 2);
    expect(worst.search(long, shared)).toBe(Found.No);
    expect(worst.search(long, shared)).toBe(Found.Undecided);
    expect(shared.remaining).toBeLessThan(0);
    // A value decided within the first position is still decided on an exhausted budget.
    expect(worst.search("", shared)).toBe(Found.No);
  });

  it("never traps on random patterns and subjects", () => {
    const random = new RandomText(521288629);
    for (let round = 0; round < 4000; round++) {
      const pattern = random.string("ab()[]{}*+?|^$.\\-,0123dws:=!<", 14);
      const result = compileRegex(pattern);
      if (result.regex !== null) {
        result.regex!.test("ab-12 ab");
        result.regex!.search(random.string("ab-12 \u00e9\ud83d\ude00\ud800", 40), new MatchBudget(<i64>(random.next() % 200)));
      }
    }
    expect(true).toBe(true);
  });
});
