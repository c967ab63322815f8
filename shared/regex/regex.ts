/**
 * Linear-time regular expressions (decision R5): the parsed tree is compiled to a small program
 * run as a Pike VM, every thread advancing one code point at a time, so no input backtracks.
 *
 * The work of one search is at most (states + POSITION_STEPS) × (code points + 1) steps (a step
 * is a state visited at a position, one more per further range of a class compared, see
 * program.ts, and each position costs POSITION_STEPS), so
 * both factors are bounded: a program has at most MAX_STATES states (refused otherwise), and a
 * search spends from a MatchBudget the caller holds per request, stopping with Found.Undecided
 * when it runs out; what an undecided value means is the caller's decision.
 */
import { Parser, isWordChar, codePointAt } from "./parse";
import {
  CharClass, ProgramBuilder, statesOf, lowerAscii, STATES_CAP,
  OP_CHAR, OP_ANY, OP_CLASS, OP_SPLIT, OP_JMP, OP_MATCH, OP_BEGIN, OP_END, OP_WORD_BOUNDARY,
} from "./program";

/**
 * Most states a program may have. A realistic key is far below: `^user-[a-z0-9]+$` has 14, an
 * IPv4 pattern `^10\.0\.\d{1,3}\.\d{1,3}$` 19, a UUID 71, a list of 100 ten-letter names about
 * 1 200. `(a|b){0,500}c` has 2 502 and is refused: on a value of `a`s each is a step per byte.
 */
export const MAX_STATES: i32 = 2000;

/**
 * Steps one request may spend on all its searches: a few ms of the worst accepted pattern in V8.
 * Any value is decided when (states + POSITION_STEPS) × (length + 1) fits, e.g. a key of up to 13
 * states on a 60 KiB value (Envoy's default header limit) or of up to 124 on an 8 KiB one; a
 * search that ends early (an anchored pattern whose threads die, a match) decides far longer values.
 */
export const MATCH_STEPS_PER_REQUEST: i64 = 1 << 20;

/**
 * What one position costs besides the states visited there: the loop around them (reading the
 * character, swapping the lists) takes about as long as visiting four states, so a pattern with
 * few live threads cannot make a step cheaper than the budget assumes.
 */
export const POSITION_STEPS: i32 = 4;

/** What a bounded search found. */
export enum Found {
  No = 0,
  Yes = 1,
  /** The budget ran out first: neither a match nor its absence is known. */
  Undecided = 2,
}

/** The steps left for searches; one per request, shared by all the searches it makes. */
export class MatchBudget {
  constructor(public remaining: i64) {}
}

/** For test(): searches bounded only by the program and subject sizes. */
const UNBOUNDED = new MatchBudget(i64.MAX_VALUE);

/** A compiled pattern; a search is a substring search (unanchored, like Go's MatchString). */
export class Regex {
  /** The program as (opcode, operand, second target) triples, see ProgramBuilder. */
  private code: Array<i32>;
  private classes: Array<CharClass>;
  /** Starts with `^`: no thread starts after position 0, so a search ends when its threads die. */
  private anchored: bool;
  /**
   * Scratch reused by every search, so a search allocates nothing (searches never nest): four
   * runs of `states` slots, the thread lists of this position and the next, the stack of
   * `follow`, and the marks (mark[pc] == generation: pc is in the list being built).
   */
  private scratch: StaticArray<i32>;
  private generation: i32 = 0;
  /** States `follow` visited since the search last charged its budget. */
  private visits: i32 = 0;
  /** Instructions in the program, MATCH included: the length of each run of scratch. */
  private instructions: i32;

  /** `states`: the program's size as statesOf counts it, MATCH included. */
  constructor(program: ProgramBuilder, public readonly foldCase: bool, public readonly states: i32) {
    this.code = program.code;
    this.classes = program.classes;
    const instructions = program.next;
    this.instructions = instructions;
    this.scratch = new StaticArray<i32>(4 * instructions);
    this.anchored = unchecked(program.code[0]) == OP_BEGIN;
  }

  /** True when the pattern matches anywhere in `subject`; unbounded but linear (see the top). */
  test(subject: string): bool {
    UNBOUNDED.remaining = i64.MAX_VALUE;
    return this.search(subject, UNBOUNDED) == Found.Yes;
  }

  /** Searches `subject`, spending steps from `budget`; Undecided when they run out first. */
  search(subject: string, budget: MatchBudget): Found {
    const length = subject.length;
    this.newSearch(length);
    this.visits = 0;
    const code = this.code.dataStart;
    const classes = this.classes.dataStart;
    const foldCase = this.foldCase;
    const anchored = this.anchored;
    let current = changetype<usize>(this.scratch);
    let next = current + ((<usize>this.instructions) << 2);
    let count = 0;
    let remaining = budget.remaining;
    let before = -1;
    let here = codePointAt(subject, 0);
    let i = 0;
    while (true) {
      if (i == 0 || !anchored) {
        // Unanchored: a thread may start at every position.
        count = this.follow(current, count, 0, before, here);
        if (count < 0) break;
      }
      // Every state visited at this position, and the position itself.
      remaining -= <i64>(this.visits + POSITION_STEPS);
      this.visits = 0;
      if (here < 0 || (count == 0 && anchored)) {
        budget.remaining = remaining;
        return Found.No;
      }
      if (remaining < 0) {
        budget.remaining = remaining;
        return Found.Undecided;
      }
      i += here > 0xffff ? 2 : 1;
      const ahead = nextCodePoint(subject, i);
      const c = foldCase ? lowerAscii(here) : here;
      this.generation++;
      let advanced = 0;
      for (let t = 0; t < count; t++) {
        const pc = element(current, t);
        const op = element(code, 3 * pc);
        const x = element(code, 3 * pc + 1);
        let hit: bool;
        if (op == OP_CHAR) hit = c == x;
        else if (op == OP_ANY) hit = c != 0x0a;
        else {
          const klass = changetype<CharClass>(load<usize>(classes + ((<usize>x) << alignof<usize>())));
          remaining -= klass.extraSteps;
          hit = klass.matches(c, foldCase);
        }
        if (!hit) continue;
        advanced = this.follow(next, advanced, pc + 1, here, ahead);
        if (advanced < 0) break;
      }
      if (advanced < 0) break;
      const swap = current;
      current = next;
      next = swap;
      count = advanced;
      before = here;
      here = ahead;
    }
    budget.remaining = remaining - POSITION_STEPS;
    return Found.Yes;
  }

  /** A generation no mark holds yet for each of the search's positions; marks reset on wrap. */
  private newSearch(length: i32): void {
    if (<i64>this.generation + <i64>length + 2 >= <i64>i32.MAX_VALUE) {
      this.scratch.fill(0);
      this.generation = 0;
    }
    this.generation++;
  }

  /**
   * Adds to the thread list at `list` the reading instructions reachable from `pc` without
   * reading, between the code points `before` and `after` (-1 past either end of the subject);
   * returns the new count, or -1 when MATCH is reached.
   */
  private follow(list: usize, count: i32, pc: i32, before: i32, after: i32): i32 {
    const code = this.code.dataStart;
    const stack = changetype<usize>(this.scratch) + ((<usize>(2 * this.instructions)) << 2);
    const mark = stack + ((<usize>this.instructions) << 2);
    const generation = this.generation;
    let visits = this.visits;
    let top = 0;
    while (true) {
      if (element(mark, pc) != generation) {
        setElement(mark, pc, generation);
        visits++;
        const op = element(code, 3 * pc);
        if (op <= OP_CLASS) {
          setElement(list, count++, pc);
        } else if (op == OP_SPLIT) {
          // Each split is visited once per generation, so the stack never holds more than the program.
          setElement(stack, top++, element(code, 3 * pc + 2));
          pc = element(code, 3 * pc + 1);
          continue;
        } else if (op == OP_JMP) {
          pc = element(code, 3 * pc + 1);
          continue;
        } else if (op == OP_MATCH) {
          this.visits = visits;
          return -1;
        } else if (holds(op, before, after)) {
          pc++;
          continue;
        }
      }
      if (top == 0) {
        this.visits = visits;
        return count;
      }
      pc = element(stack, --top);
    }
  }
}

/** codePointAt without a call for the characters below the surrogates. */
@inline function nextCodePoint(s: string, i: i32): i32 {
  if (i < s.length) {
    const c = <i32>load<u16>(changetype<usize>(s) + ((<usize>i) << 1));
    if (c < 0xd800) return c;
  }
  return codePointAt(s, i);
}

/**
 * Unchecked i32 access at base + 4i, spelled out: with the release build's size settings binaryen
 * leaves `unchecked(a[i] = v)` on a StaticArray as a call, one per visited state.
 */
@inline function element(base: usize, i: i32): i32 {
  return load<i32>(base + ((<usize>i) << 2));
}

@inline function setElement(base: usize, i: i32, value: i32): void {
  store<i32>(base + ((<usize>i) << 2), value);
}

/** A zero-width assertion between two code points (-1 past either end). */
function holds(code: i32, before: i32, after: i32): bool {
  if (code == OP_BEGIN) return before < 0;
  if (code == OP_END) return after < 0;
  const boundary = isWordChar(before) != isWordChar(after);
  return code == OP_WORD_BOUNDARY ? boundary : !boundary;
}

export class RegexResult {
  constructor(public regex: Regex | null, public error: string, public tooLarge: bool = false) {}

  /** The error as it follows "<field> regexp " in a configuration error. */
  describe(): string {
    return this.tooLarge ? this.error : "does not compile: " + this.error;
  }
}

/** Compiles `pattern`; unsupported syntax (backreferences, lookaround, …) and programs over MAX_STATES are errors naming why. */
export function compileRegex(pattern: string): RegexResult {
  const parser = new Parser(pattern);
  const tree = parser.parse();
  if (tree === null) return new RegexResult(null, parser.error);
  // The final MATCH is a state too.
  const states = statesOf(tree) + 1;
  if (states > <i64>MAX_STATES) {
    const count = states >= STATES_CAP ? "at least " + STATES_CAP.toString() : states.toString();
    return new RegexResult(null, "compiles to " + count + " states, more than " + MAX_STATES.toString(), true);
  }
  const program = new ProgramBuilder(parser.foldCase);
  program.compile(tree);
  program.emit(OP_MATCH, 0, 0);
  return new RegexResult(new Regex(program, parser.foldCase, <i32>states), "");
}
