/** Parses the RE2 subset used by rate-limit keys into a small syntax tree; every error names the construct. */

export enum NodeKind {
  Literal,
  Any,
  Class,
  Begin,
  End,
  WordBoundary,
  NotWordBoundary,
  Concat,
  Alternate,
  Repeat,
  Empty,
}

export class Node {
  kind: NodeKind;
  /** Literal code point. */
  c: i32 = 0;
  /** Class ranges as [lo, hi] pairs of code points. */
  ranges: Array<i32> = [];
  negated: bool = false;
  children: Array<Node> = [];
  min: i32 = 0;
  /** -1 = unbounded. */
  max: i32 = -1;

  constructor(kind: NodeKind) {
    this.kind = kind;
  }
}

/** Deeper nesting is refused so a hostile pattern cannot exhaust the stack. */
const MAX_DEPTH: i32 = 100;
/** Largest count allowed in {n,m}, as RE2. */
export const MAX_REPEAT: i32 = 1000;

export class Parser {
  pos: i32 = 0;
  error: string = "";
  foldCase: bool = false;

  constructor(private pattern: string) {}

  fail(message: string): Node | null {
    if (this.error.length == 0) this.error = message;
    return null;
  }

  peek(): i32 {
    return this.pos < this.pattern.length ? this.pattern.charCodeAt(this.pos) : -1;
  }

  /** Next code point, surrogate pairs joined. */
  next(): i32 {
    const c = codePointAt(this.pattern, this.pos);
    this.pos += c > 0xffff ? 2 : 1;
    return c;
  }

  parse(): Node | null {
    if (this.pattern.startsWith("(?i)")) {
      this.foldCase = true;
      this.pos = 4;
    }
    const node = this.alternation(0);
    if (node === null) return null;
    if (this.pos < this.pattern.length) return this.fail("unexpected ')' at offset " + this.pos.toString());
    return node;
  }

  alternation(depth: i32): Node | null {
    if (depth > MAX_DEPTH) return this.fail("pattern nests too deeply");
    const first = this.concat(depth);
    if (first === null) return null;
    if (this.peek() != 0x7c) return first;
    const alt = new Node(NodeKind.Alternate);
    alt.children.push(first);
    while (this.peek() == 0x7c) {
      this.pos++;
      const next = this.concat(depth);
      if (next === null) return null;
      alt.children.push(next);
    }
    return alt;
  }

  concat(depth: i32): Node | null {
    const node = new Node(NodeKind.Concat);
    while (this.pos < this.pattern.length) {
      const c = this.peek();
      if (c == 0x7c || c == 0x29) break;
      const atom = this.atom(depth);
      if (atom === null) return null;
      const repeated = this.quantifier(atom);
      if (repeated === null) return null;
      node.children.push(repeated);
    }
    return node;
  }

  quantifier(atom: Node): Node | null {
    const c = this.peek();
    let min = -2;
    let max = -1;
    if (c == 0x2a) {
      min = 0;
    } else if (c == 0x2b) {
      min = 1;
    } else if (c == 0x3f) {
      min = 0;
      max = 1;
    } else if (c == 0x7b) {
      const saved = this.pos;
      const counted = this.counts();
      if (counted === null) {
        if (this.error.length > 0) return null;
        // Like RE2, a "{" that does not start a valid count is a literal.
        this.pos = saved;
        return atom;
      }
      min = counted[0];
      max = counted[1];
      this.pos--;
    } else {
      return atom;
    }
    this.pos++;
    if (atom.kind == NodeKind.Begin || atom.kind == NodeKind.End || atom.kind == NodeKind.Empty) {
      return this.fail("missing argument to repetition operator");
    }
    if (atom.kind == NodeKind.Repeat) return this.fail("invalid nested repetition operator");
    // A lazy "?" changes which match is found, not whether one exists.
    if (this.peek() == 0x3f) this.pos++;
    if (this.peek() == 0x2b) return this.fail("possessive quantifiers are not supported");
    const after = this.peek();
    if (after == 0x2a || after == 0x3f) return this.fail("invalid nested repetition operator");
    const node = new Node(NodeKind.Repeat);
    node.children.push(atom);
    node.min = min;
    node.max = max;
    return node;
  }

  /** Reads "{n}", "{n,}" or "{n,m}" and leaves pos on the "}"; null when it is not a count. */
  counts(): Array<i32> | null {
    this.pos++;
    const min = this.number();
    if (min < 0) return null;
    let max = min;
    if (this.peek() == 0x2c) {
      this.pos++;
      max = this.peek() == 0x7d ? -1 : this.number();
      if (max == -2 || (max < 0 && this.peek() != 0x7d)) return null;
    }
    if (this.peek() != 0x7d) return null;
    this.pos++;
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) {
      this.fail("invalid repeat count");
      return null;
    }
    return [min, max];
  }

  number(): i32 {
    const start = this.pos;
    let value = 0;
    while (this.pos < this.pattern.length) {
      const c = this.peek();
      if (c < 0x30 || c > 0x39) break;
      value = min(value * 10 + (c - 0x30), 100000);
      this.pos++;
    }
    return this.pos == start ? -2 : value;
  }

  atom(depth: i32): Node | null {
    const c = this.next();
    if (c == 0x28) {
      let capturing = true;
      if (this.peek() == 0x3f) {
        const rest = this.pattern.substr(this.pos, 3);
        if (rest.startsWith("?:")) {
          this.pos += 2;
          capturing = false;
        } else if (rest.startsWith("?=") || rest.startsWith("?!") || rest.startsWith("?<=") || rest.startsWith("?<!")) {
          return this.fail("lookaround is not supported");
        } else if (rest.startsWith("?P<") || rest.startsWith("?<")) {
          const close = this.pattern.indexOf(">", this.pos);
          if (close < 0) return this.fail("invalid named capture");
          this.pos = close + 1;
        } else {
          return this.fail("unsupported group flag (only (?:...) and a leading (?i) are supported)");
        }
      }
      void capturing;
      const inner = this.alternation(depth + 1);
      if (inner === null) return null;
      if (this.peek() != 0x29) return this.fail("missing closing )");
      this.pos++;
      return inner;
    }
    if (c == 0x5b) return this.charClass();
    if (c == 0x2e) return new Node(NodeKind.Any);
    if (c == 0x5e) return new Node(NodeKind.Begin);
    if (c == 0x24) return new Node(NodeKind.End);
    if (c == 0x2a || c == 0x2b || c == 0x3f) return this.fail("missing argument to repetition operator");
    if (c == 0x5c) return this.escape(false);
    const node = new Node(NodeKind.Literal);
    node.c = c;
    return node;
  }

  /** After a backslash; inside a class only class-friendly escapes are allowed. */
  escape(inClass: bool): Node | null {
    if (this.pos >= this.pattern.length) return this.fail("trailing backslash at end of expression");
    const c = this.next();
    if (c >= 0x31 && c <= 0x39) return this.fail("backreferences are not supported");
    const node = new Node(NodeKind.Class);
    if (c == 0x64 || c == 0x44) {
      node.ranges = [0x30, 0x39];
      node.negated = c == 0x44;
      return node;
    }
    if (c == 0x77 || c == 0x57) {
      node.ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
      node.negated = c == 0x57;
      return node;
    }
    if (c == 0x73 || c == 0x53) {
      node.ranges = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];
      node.negated = c == 0x53;
      return node;
    }
    if (!inClass && (c == 0x62 || c == 0x42)) return new Node(c == 0x62 ? NodeKind.WordBoundary : NodeKind.NotWordBoundary);
    if (!inClass && (c == 0x41 || c == 0x7a)) return new Node(c == 0x41 ? NodeKind.Begin : NodeKind.End);
    const literal = new Node(NodeKind.Literal);
    if (c == 0x6e) literal.c = 0x0a;
    else if (c == 0x72) literal.c = 0x0d;
    else if (c == 0x74) literal.c = 0x09;
    else if (c == 0x66) literal.c = 0x0c;
    else if (c == 0x76) literal.c = 0x0b;
    else if (c < 0x80 && !isWordChar(c)) literal.c = c;
    else return this.fail("invalid escape sequence \\" + String.fromCodePoint(c));
    return literal;
  }

  charClass(): Node | null {
    const node = new Node(NodeKind.Class);
    if (this.peek() == 0x5e) {
      node.negated = true;
      this.pos++;
    }
    let first = true;
    while (true) {
      if (this.pos >= this.pattern.length) return this.fail("missing closing ]");
      let c = this.peek();
      if (c == 0x5d && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (this.pattern.substr(this.pos, 2) == "[:") return this.fail("POSIX classes like [:alpha:] are not supported");
      let lo: i32;
      if (c == 0x5c) {
        this.pos++;
        const escaped = this.escape(true);
        if (escaped === null) return null;
        if (escaped.kind == NodeKind.Class) {
          if (escaped.negated) return this.fail("negated escapes like \\D inside a class are not supported");
          for (let i = 0; i < escaped.ranges.length; i++) node.ranges.push(escaped.ranges[i]);
          continue;
        }
        lo = escaped.c;
      } else {
        lo = this.next();
      }
      let hi = lo;
      if (this.peek() == 0x2d && this.pos + 1 < this.pattern.length && this.pattern.charCodeAt(this.pos + 1) != 0x5d) {
        this.pos++;
        c = this.peek();
        if (c == 0x5c) {
          this.pos++;
          const escaped = this.escape(true);
          if (escaped === null) return null;
          if (escaped.kind != NodeKind.Literal) return this.fail("invalid character class range");
          hi = escaped.c;
        } else {
          hi = this.next();
        }
        if (hi < lo) return this.fail("invalid character class range");
      }
      node.ranges.push(lo);
      node.ranges.push(hi);
    }
    return node;
  }
}

export function isWordChar(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}

/** The code point at UTF-16 index i (a lone surrogate stands for itself), -1 at the end. */
export function codePointAt(s: string, i: i32): i32 {
  if (i >= s.length) return -1;
  const base = changetype<usize>(s);
  const c = <i32>load<u16>(base + ((<usize>i) << 1));
  if (c < 0xd800 || c > 0xdbff || i + 1 >= s.length) return c;
  const d = <i32>load<u16>(base + ((<usize>(i + 1)) << 1));
  if (d < 0xdc00 || d > 0xdfff) return c;
  return ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
}
