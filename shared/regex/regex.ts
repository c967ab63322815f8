/**
 * Linear-time regular expressions (decision R5): the parsed tree is compiled to a small program
 * run as a Pike VM, every thread advancing one code point at a time, so no input backtracks.
 */
import { Node, NodeKind, Parser, isWordChar } from "./parse";

const OP_CHAR: u8 = 0;
const OP_ANY: u8 = 1;
const OP_CLASS: u8 = 2;
const OP_SPLIT: u8 = 3;
const OP_JMP: u8 = 4;
const OP_MATCH: u8 = 5;
const OP_BEGIN: u8 = 6;
const OP_END: u8 = 7;
const OP_WORD_BOUNDARY: u8 = 8;
const OP_NOT_WORD_BOUNDARY: u8 = 9;

/** Programs larger than this are refused, so {n,m} cannot blow up memory. */
const MAX_PROGRAM: i32 = 20000;

class CharClass {
  constructor(public ranges: Array<i32>, public negated: bool) {}

  matches(c: i32, foldCase: bool): bool {
    let hit = inRanges(this.ranges, c);
    if (!hit && foldCase) hit = inRanges(this.ranges, lower(c)) || inRanges(this.ranges, upper(c));
    return hit != this.negated;
  }
}

function inRanges(ranges: Array<i32>, c: i32): bool {
  for (let i = 0; i + 1 < ranges.length; i += 2) {
    if (c >= unchecked(ranges[i]) && c <= unchecked(ranges[i + 1])) return true;
  }
  return false;
}

function lower(c: i32): i32 {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

function upper(c: i32): i32 {
  return c >= 0x61 && c <= 0x7a ? c - 32 : c;
}

/** A compiled pattern; test() is a substring search (unanchored, like Go's MatchString). */
export class Regex {
  op: Array<u8> = [];
  x: Array<i32> = [];
  y: Array<i32> = [];
  classes: Array<CharClass> = [];
  foldCase: bool = false;
  tooLarge: bool = false;

  emit(op: u8, x: i32, y: i32): i32 {
    if (this.op.length >= MAX_PROGRAM) {
      this.tooLarge = true;
      return this.op.length - 1;
    }
    this.op.push(op);
    this.x.push(x);
    this.y.push(y);
    return this.op.length - 1;
  }

  compile(node: Node): void {
    if (this.tooLarge) return;
    switch (node.kind) {
      case NodeKind.Literal:
        this.emit(OP_CHAR, this.foldCase ? lower(node.c) : node.c, 0);
        break;
      case NodeKind.Any:
        this.emit(OP_ANY, 0, 0);
        break;
      case NodeKind.Class:
        this.classes.push(new CharClass(node.ranges, node.negated));
        this.emit(OP_CLASS, this.classes.length - 1, 0);
        break;
      case NodeKind.Begin:
        this.emit(OP_BEGIN, 0, 0);
        break;
      case NodeKind.End:
        this.emit(OP_END, 0, 0);
        break;
      case NodeKind.WordBoundary:
        this.emit(OP_WORD_BOUNDARY, 0, 0);
        break;
      case NodeKind.NotWordBoundary:
        this.emit(OP_NOT_WORD_BOUNDARY, 0, 0);
        break;
      case NodeKind.Concat:
        for (let i = 0; i < node.children.length; i++) this.compile(node.children[i]);
        break;
      case NodeKind.Alternate: {
        const jumps = new Array<i32>();
        for (let i = 0; i < node.children.length; i++) {
          if (i < node.children.length - 1) {
            const split = this.emit(OP_SPLIT, 0, 0);
            unchecked((this.x[split] = split + 1));
            this.compile(node.children[i]);
            jumps.push(this.emit(OP_JMP, 0, 0));
            unchecked((this.y[split] = this.op.length));
          } else {
            this.compile(node.children[i]);
          }
        }
        for (let i = 0; i < jumps.length; i++) unchecked((this.x[jumps[i]] = this.op.length));
        break;
      }
      case NodeKind.Repeat:
        this.repeat(node.children[0], node.min, node.max);
        break;
      default:
        break;
    }
  }

  repeat(child: Node, min: i32, max: i32): void {
    for (let i = 0; i < min && !this.tooLarge; i++) this.compile(child);
    if (max < 0) {
      const loop = this.emit(OP_SPLIT, 0, 0);
      unchecked((this.x[loop] = loop + 1));
      this.compile(child);
      this.emit(OP_JMP, loop, 0);
      unchecked((this.y[loop] = this.op.length));
      return;
    }
    const exits = new Array<i32>();
    for (let i = min; i < max && !this.tooLarge; i++) {
      const split = this.emit(OP_SPLIT, 0, 0);
      unchecked((this.x[split] = split + 1));
      exits.push(split);
      this.compile(child);
    }
    for (let i = 0; i < exits.length; i++) unchecked((this.y[exits[i]] = this.op.length));
  }

  /** True when the pattern matches anywhere in `subject`. Linear in subject length × program size. */
  test(subject: string): bool {
    const text = codePoints(subject);
    const size = this.op.length;
    let current = new ThreadList(size);
    let next = new ThreadList(size);
    const stack = new Array<i32>();
    for (let pos = 0; pos <= text.length; pos++) {
      // Unanchored: a new thread may start at every position.
      if (this.add(current, 0, pos, text, stack)) return true;
      if (pos == text.length) break;
      const c = unchecked(text[pos]);
      next.clear();
      for (let t = 0; t < current.count; t++) {
        const pc = current.at(t);
        const op = unchecked(this.op[pc]);
        let advance = false;
        if (op == OP_CHAR) advance = (this.foldCase ? lower(c) : c) == unchecked(this.x[pc]);
        else if (op == OP_ANY) advance = c != 0x0a;
        else if (op == OP_CLASS) advance = unchecked(this.classes[unchecked(this.x[pc])]).matches(c, this.foldCase);
        if (advance && this.add(next, pc + 1, pos + 1, text, stack)) return true;
      }
      const swap = current;
      current = next;
      next = swap;
    }
    return false;
  }

  /** Follows jumps and assertions from pc at pos; true when MATCH is reached. */
  add(list: ThreadList, pc: i32, pos: i32, text: Array<i32>, stack: Array<i32>): bool {
    stack.push(pc);
    while (stack.length > 0) {
      const p = stack.pop();
      if (list.has(p)) continue;
      list.add(p);
      const op = unchecked(this.op[p]);
      if (op == OP_MATCH) {
        stack.length = 0;
        return true;
      }
      if (op == OP_JMP) stack.push(unchecked(this.x[p]));
      else if (op == OP_SPLIT) {
        stack.push(unchecked(this.y[p]));
        stack.push(unchecked(this.x[p]));
      } else if (op == OP_BEGIN) {
        if (pos == 0) stack.push(p + 1);
      } else if (op == OP_END) {
        if (pos == text.length) stack.push(p + 1);
      } else if (op == OP_WORD_BOUNDARY || op == OP_NOT_WORD_BOUNDARY) {
        const before = pos > 0 && isWordChar(unchecked(text[pos - 1]));
        const after = pos < text.length && isWordChar(unchecked(text[pos]));
        if ((before != after) == (op == OP_WORD_BOUNDARY)) stack.push(p + 1);
      }
    }
    return false;
  }
}

/** A sparse set of program counters: O(1) add, membership and clear. */
class ThreadList {
  dense: StaticArray<i32>;
  sparse: StaticArray<i32>;
  count: i32 = 0;

  constructor(size: i32) {
    this.dense = new StaticArray<i32>(size);
    this.sparse = new StaticArray<i32>(size);
  }

  has(pc: i32): bool {
    const i = unchecked(this.sparse[pc]);
    return i < this.count && unchecked(this.dense[i]) == pc;
  }

  add(pc: i32): void {
    unchecked((this.dense[this.count] = pc));
    unchecked((this.sparse[pc] = this.count));
    this.count++;
  }

  at(i: i32): i32 {
    return unchecked(this.dense[i]);
  }

  clear(): void {
    this.count = 0;
  }
}

function codePoints(s: string): Array<i32> {
  const out = new Array<i32>();
  for (let i = 0; i < s.length; ) {
    const c = s.codePointAt(i);
    out.push(c);
    i += c > 0xffff ? 2 : 1;
  }
  return out;
}

export class RegexResult {
  constructor(public regex: Regex | null, public error: string) {}
}

/** Compiles `pattern`; unsupported syntax (backreferences, lookaround, …) is an error naming it. */
export function compileRegex(pattern: string): RegexResult {
  const parser = new Parser(pattern);
  const tree = parser.parse();
  if (tree === null) return new RegexResult(null, parser.error);
  const regex = new Regex();
  regex.foldCase = parser.foldCase;
  regex.compile(tree);
  regex.emit(OP_MATCH, 0, 0);
  if (regex.tooLarge) return new RegexResult(null, "expression too large");
  return new RegexResult(regex, "");
}
