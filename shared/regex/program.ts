/**
 * The parsed tree as a program for the Pike VM (regex.ts): one instruction per literal, class,
 * assertion, split or jump. Its size in "states" is what a thread at each of its instructions can
 * cost per character: one each, and one per range for a class (each range is a comparison).
 * Counted repetitions copy their operand, so a short pattern can make a large program; `statesOf`
 * counts it before anything is emitted, so a pattern over the bound is refused at configuration
 * without building it.
 */
import { Node, NodeKind } from "./parse";

export const OP_CHAR: i32 = 0;
export const OP_ANY: i32 = 1;
export const OP_CLASS: i32 = 2;
export const OP_SPLIT: i32 = 3;
export const OP_JMP: i32 = 4;
export const OP_MATCH: i32 = 5;
export const OP_BEGIN: i32 = 6;
export const OP_END: i32 = 7;
export const OP_WORD_BOUNDARY: i32 = 8;
export const OP_NOT_WORD_BOUNDARY: i32 = 9;

/** Counts stop growing here, so nested repetitions cannot overflow; shown as "at least". */
export const STATES_CAP: i64 = 1_000_000_000_000;

function capped(n: i64): i64 {
  return n < STATES_CAP ? n : STATES_CAP;
}

/** The states of what `compile` emits for `node` (MATCH not included), capped at STATES_CAP. */
export function statesOf(node: Node): i64 {
  switch (node.kind) {
    case NodeKind.Concat: {
      let sum: i64 = 0;
      for (let i = 0; i < node.children.length; i++) sum = capped(sum + statesOf(node.children[i]));
      return sum;
    }
    case NodeKind.Alternate: {
      // A split and a jump around every branch but the last.
      let sum: i64 = 2 * <i64>(node.children.length - 1);
      for (let i = 0; i < node.children.length; i++) sum = capped(sum + statesOf(node.children[i]));
      return sum;
    }
    case NodeKind.Repeat: {
      const child = statesOf(node.children[0]);
      const min = <i64>node.min;
      // x{n,} is n copies, then x* as a split, one more copy and a jump back.
      if (node.max < 0) return capped(min * child + child + 2);
      return capped(min * child + (<i64>node.max - min) * (child + 1));
    }
    case NodeKind.Empty:
      return 0;
    case NodeKind.Class:
      // One comparison per range for every character a thread here reads: a state per range.
      return <i64>max(1, node.ranges.length >> 1);
    default:
      return 1;
  }
}

/** A character class as [lo, hi] pairs of code points. */
export class CharClass {
  /** Steps a thread reading this class costs beyond the first: one per further range (statesOf). */
  extraSteps: i32;

  constructor(public ranges: Array<i32>, public negated: bool) {
    this.extraSteps = max(1, ranges.length >> 1) - 1;
  }

  /** `c` is already lower-cased when the pattern folds case (ASCII only), so only A–Z is left to try. */
  matches(c: i32, foldCase: bool): bool {
    let hit = inRanges(this.ranges, c);
    if (!hit && foldCase && c >= 0x61 && c <= 0x7a) hit = inRanges(this.ranges, c - 32);
    return hit != this.negated;
  }
}

function inRanges(ranges: Array<i32>, c: i32): bool {
  // Read in place: with the release build's size settings `unchecked(ranges[i])` stays a call.
  const end = ranges.dataStart + ((<usize>ranges.length) << 2);
  for (let at = ranges.dataStart; at + 4 < end; at += 8) {
    if (c >= load<i32>(at) && c <= load<i32>(at, 4)) return true;
  }
  return false;
}

@inline export function lowerAscii(c: i32): i32 {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

/** Instructions as triples in one list: opcode, operand, and a split's second target. */
export class ProgramBuilder {
  code: Array<i32> = [];
  classes: Array<CharClass> = [];

  constructor(private foldCase: bool) {}

  /** The number of the next instruction. */
  get next(): i32 {
    return this.code.length / 3;
  }

  emit(op: i32, x: i32, y: i32): i32 {
    const pc = this.next;
    this.code.push(op);
    this.code.push(x);
    this.code.push(y);
    return pc;
  }

  /** Sets the operand (0) or second target (1) of instruction pc to the next instruction. */
  private patch(pc: i32, field: i32): void {
    unchecked((this.code[pc * 3 + 1 + field] = this.next));
  }

  /** Only called on a tree whose statesOf is within the bound, so every index stays small. */
  compile(node: Node): void {
    switch (node.kind) {
      case NodeKind.Literal:
        this.emit(OP_CHAR, this.foldCase ? lowerAscii(node.c) : node.c, 0);
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
        const last = node.children.length - 1;
        for (let i = 0; i < last; i++) {
          const split = this.emit(OP_SPLIT, this.next + 1, 0);
          this.compile(node.children[i]);
          jumps.push(this.emit(OP_JMP, 0, 0));
          this.patch(split, 1);
        }
        this.compile(node.children[last]);
        for (let i = 0; i < jumps.length; i++) this.patch(jumps[i], 0);
        break;
      }
      case NodeKind.Repeat:
        this.repeat(node.children[0], node.min, node.max);
        break;
      default:
        break;
    }
  }

  private repeat(child: Node, min: i32, max: i32): void {
    for (let i = 0; i < min; i++) this.compile(child);
    if (max < 0) {
      const loop = this.emit(OP_SPLIT, this.next + 1, 0);
      this.compile(child);
      this.emit(OP_JMP, loop, 0);
      this.patch(loop, 1);
      return;
    }
    const exits = new Array<i32>();
    for (let i = min; i < max; i++) {
      exits.push(this.emit(OP_SPLIT, this.next + 1, 0));
      this.compile(child);
    }
    for (let i = 0; i < exits.length; i++) this.patch(exits[i], 1);
  }
}
