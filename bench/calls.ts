/**
 * `npm run bench:calls -- <dirA> <dirB> …`: how much of each AI plugin's code a chat runs, for the
 * builds in each directory (`<dir>/ai-quota.wasm`, `<dir>/ai-token-ratelimit.wasm`). Every function
 * of a copy of the module gets a counter (binaryen adds one global per function and one increment
 * at its entry), the bench's chat runs 1 000 times after 300 of warm-up, and the counters give the
 * function calls per chat and how many distinct functions are called, on average, once a chat or
 * more. Unlike time, these are the same
 * on every run and machine, so a change of a few percent in the work per chat shows, where
 * `bench:ab` moves by more than that between two runs of one build.
 */
import { readFileSync } from "node:fs";
import binaryenModule from "binaryen";
import { createHost } from "../host/direct.ts";
import { LOG_LEVEL, PLUGIN_CONFIGS, benchRedis, chat, chatResponse } from "./scenario.ts";

// Both are in binaryen.js at run time, not in its typings: the wasm's readiness, and setting a function's body in place.
const binaryen = binaryenModule as typeof binaryenModule & { ready: Promise<void>; _BinaryenFunctionSetBody(fn: number, body: number): void };

const WARM = 300;
const CHATS = 1000;
const COUNTER = "bench_calls_";

/** The module with a counter per defined function, exported as `bench_calls_<i>`, and how many there are. */
async function instrumented(wasm: Uint8Array): Promise<{ bytes: Uint8Array; functions: number }> {
  await binaryen.ready;
  const module = binaryen.readBinary(wasm);
  module.setFeatures(binaryen.Features.All);
  let functions = 0;
  for (let i = 0; i < module.getNumFunctions(); i++) {
    const fn = module.getFunctionByIndex(i);
    const info = binaryen.getFunctionInfo(fn);
    if (info.module) continue;
    const counter = COUNTER + functions++;
    module.addGlobal(counter, binaryen.i32, true, module.i32.const(0));
    module.addGlobalExport(counter, counter);
    const increment = module.global.set(counter, module.i32.add(module.global.get(counter, binaryen.i32), module.i32.const(1)));
    binaryen._BinaryenFunctionSetBody(fn, module.block(null, [increment, info.body], info.results));
  }
  if (!module.validate()) throw new Error("bench:calls: the instrumented module does not validate");
  const bytes = module.emitBinary();
  module.dispose();
  return { bytes, functions };
}

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error("usage: npm run bench:calls -- <build dir> [<build dir> …]");
const { redis, bridge } = await benchRedis();
console.log(`per chat, after ${WARM} chats of warm-up, over ${CHATS}`);
for (const name of ["ai-quota", "ai-token-ratelimit"]) {
  const first: number[] = [];
  for (const dir of dirs) {
    const { bytes, functions } = await instrumented(readFileSync(`${dir}/${name}.wasm`));
    const host = await createHost({ wasm: bytes, config: PLUGIN_CONFIGS[name], redis: bridge, logLevel: LOG_LEVEL });
    const exports = (host.chain.vms[0] as unknown as { instance: WebAssembly.Instance }).instance.exports;
    const counts = () => Array.from({ length: functions }, (_, i) => (exports[COUNTER + i] as WebAssembly.Global).value as number);
    for (let i = 0; i < WARM; i++) await chat(host, chatResponse);
    const before = counts();
    for (let i = 0; i < CHATS; i++) await chat(host, chatResponse);
    const after = counts();
    const calls = after.reduce((sum, n, i) => sum + n - before[i], 0) / CHATS;
    const run = after.filter((n, i) => n - before[i] >= CHATS).length;
    if (first.length === 0) first.push(calls, run);
    const ratio = first[0] > 0 ? ` x${(calls / first[0]).toFixed(3)}` : "";
    console.log(`${name} ${dir}: ${calls.toFixed(1)} function calls${ratio}, ${run} functions called once a chat or more (of ${functions})`);
  }
}
await bridge.close();
await redis.stop();
