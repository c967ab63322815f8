/**
 * Counts the wasm operations a module runs, for `npm run bench:calls`. Every straight run of code
 * (a function's body, a block, a loop's body, each arm of an if) first adds to one exported global
 * the number of operations it holds, not counting those of the blocks nested in it, which add their
 * own. A run left early (br, return) still counts whole, so the figure is a little high, the same
 * way on every build: a measure of work that does not move between runs, where time does.
 */
import binaryenModule from "binaryen";

// In binaryen.js at run time, not in its typings: readiness, and the setters that edit a tree in place.
type Binaryen = typeof binaryenModule & {
  ready: Promise<void>;
  _BinaryenExpressionGetId(expr: number): number;
  _BinaryenBlockGetNumChildren(block: number): number;
  _BinaryenBlockGetChildAt(block: number, index: number): number;
  _BinaryenBlockInsertChildAt(block: number, index: number, child: number): void;
  _BinaryenLoopGetBody(loop: number): number;
  _BinaryenLoopSetBody(loop: number, body: number): void;
  _BinaryenIfSetIfTrue(node: number, arm: number): void;
  _BinaryenIfSetIfFalse(node: number, arm: number): void;
  _BinaryenFunctionSetBody(fn: number, body: number): void;
};
export const binaryen = binaryenModule as Binaryen;

/** The global that holds the count, exported under this name. */
export const OPERATIONS = "bench_operations";

// The fields of binaryen's expression info that hold child expressions (a Const's `value` is its literal).
const CHILD_FIELDS = ["children", "condition", "ifTrue", "ifFalse", "body", "value", "operands", "target", "ptr", "left", "right", "delta", "dest", "source", "size", "expected", "replacement"];

/** Adds the operation counter to every function defined in `module` (changed in place). */
export function countOperations(module: binaryenModule.Module): void {
  module.addGlobal(OPERATIONS, binaryen.i32, true, module.i32.const(0));
  module.addGlobalExport(OPERATIONS, OPERATIONS);
  const add = (n: number) => module.global.set(OPERATIONS, module.i32.add(module.global.get(OPERATIONS, binaryen.i32), module.i32.const(n)));
  const typeOf = (expr: number) => binaryen.getExpressionInfo(expr).type;
  /** `code` with the count of its own run first. */
  const counted = (code: number) => module.block(null, [add(weight(code)), code], typeOf(code));
  /** The operations `expr` adds to the run it is in; the runs nested in it get their own counts. */
  const weight = (expr: number): number => {
    if (!expr) return 0;
    const id = binaryen._BinaryenExpressionGetId(expr);
    if (id === binaryen.BlockId) {
      let own = 0;
      const n = binaryen._BinaryenBlockGetNumChildren(expr);
      for (let i = 0; i < n; i++) own += weight(binaryen._BinaryenBlockGetChildAt(expr, i));
      if (own > 0) binaryen._BinaryenBlockInsertChildAt(expr, 0, add(own));
      return 1;
    }
    if (id === binaryen.LoopId) {
      binaryen._BinaryenLoopSetBody(expr, counted(binaryen._BinaryenLoopGetBody(expr)));
      return 1;
    }
    const info = binaryen.getExpressionInfo(expr) as unknown as Record<string, unknown>;
    if (id === binaryen.IfId) {
      const condition = weight(info.condition as number);
      binaryen._BinaryenIfSetIfTrue(expr, counted(info.ifTrue as number));
      if (info.ifFalse) binaryen._BinaryenIfSetIfFalse(expr, counted(info.ifFalse as number));
      return 1 + condition;
    }
    if (id === binaryen.ConstId) return 1;
    let own = 1;
    for (const field of CHILD_FIELDS) {
      const child = info[field];
      if (Array.isArray(child)) for (const c of child) own += weight(c as number);
      else if (typeof child === "number") own += weight(child);
    }
    return own;
  };
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const fn = module.getFunctionByIndex(i);
    const info = binaryen.getFunctionInfo(fn);
    if (info.module) continue;
    binaryen._BinaryenFunctionSetBody(fn, counted(info.body));
  }
}
