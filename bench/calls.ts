/**
 * `npm run bench:calls -- <dirA> <dirB> …`: how much of each AI plugin's code a chat runs, for the
 * builds in each directory (`<dir>/ai-quota.wasm`, `<dir>/ai-token-ratelimit.wasm`). Every function
 * of a copy of the module gets a counter (binaryen adds one global per function and one increment
 * at its entry), the bench's chat runs 1 000 times after 300 of warm-up, and the counters give the
 * function calls per chat and how many distinct functions are called, on average, once a chat or
 * more, and the wasm operations the median chat runs (op-counter.ts; the mean, which spreads the
 * heap's collections over the chats, beside it). Unlike time, these are the same on every run and
 * machine, so a change of a few percent in the work per chat shows, where `bench:ab` moves by more
 * than that between two runs of one build. What they cannot show is the cost of host calls.
 */
import { readFileSync } from "node:fs";
import { createHost } from "../host/direct.ts";
import { LOG_LEVEL, PLUGIN_CONFIGS, benchRedis, chat, chatResponse } from "./scenario.ts";

import { binaryen, countOperations, OPERATIONS } from "./op-counter.ts";

const WARM = 300;
const CHATS = 1000;
const COUNTER = "bench_calls_";

/** The module with the operation counter and a call counter per defined function, exported as `bench_calls_<i>`, and how many there are. */
async function instrumented(wasm: Uint8Array): Promise<{ bytes: Uint8Array; functions: number }> {
  await binaryen.ready;
  const module = binaryen.readBinary(wasm);
  module.setFeatures(binaryen.Features.All);
  // First, so that the call counters' own increments are not counted as the module's operations.
  countOperations(module);
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
    const operations = () => (exports[OPERATIONS] as WebAssembly.Global).value as number;
    for (let i = 0; i < WARM; i++) await chat(host, chatResponse);
    const before = counts();
    const perChat: number[] = [];
    for (let i = 0; i < CHATS; i++) {
      const start = operations();
      await chat(host, chatResponse);
      perChat.push(operations() - start);
    }
    const after = counts();
    const meanOperations = perChat.reduce((sum, n) => sum + n, 0) / CHATS;
    const medianOperations = [...perChat].sort((a, b) => a - b)[CHATS >> 1];
    const calls = after.reduce((sum, n, i) => sum + n - before[i], 0) / CHATS;
    const run = after.filter((n, i) => n - before[i] >= CHATS).length;
    if (first.length === 0) first.push(calls, run, medianOperations);
    const ratio = (value: number, of: number) => (of > 0 ? ` x${(value / of).toFixed(3)}` : "");
    console.log(
      `${name} ${dir}: ${calls.toFixed(1)} function calls${ratio(calls, first[0])}, ${run} functions called once a chat or more (of ${functions}), ` +
        `${medianOperations} wasm operations${ratio(medianOperations, first[2])} (mean ${meanOperations.toFixed(0)})`,
    );
  }
}
await bridge.close();
await redis.stop();
