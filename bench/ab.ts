/**
 * `npm run bench:ab -- <dirA> <dirB> …`: wasm time per chat of the AI plugins built into each
 * directory (`<dir>/ai-quota.wasm`, `<dir>/ai-token-ratelimit.wasm`) and of the walkthrough's chain
 * of all three (with `<dir>/key-auth.wasm`), side by side in one process and interleaved, so that
 * two builds are compared under the same machine state. Figures vary by
 * ±10% between processes on a shared machine; within one process a difference of 0.1 µs shows.
 */
import { readFileSync } from "node:fs";
import { createHost } from "../host/direct.ts";
import { measure, clockCost } from "./guest-time.ts";
import { LOG_LEVEL, PLUGIN_CONFIGS, benchRedis, chat, chatResponse } from "./scenario.ts";

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error("usage: npm run bench:ab -- <build dir> [<build dir> …]");
const requests = Number(process.env.REQUESTS ?? 10_000);
const { redis, bridge } = await benchRedis();
const cases = [];
for (const name of ["ai-quota", "ai-token-ratelimit"]) {
  for (const [i, dir] of dirs.entries()) {
    const host = await createHost({ wasm: readFileSync(`${dir}/${name}.wasm`), config: PLUGIN_CONFIGS[name], redis: bridge, logLevel: LOG_LEVEL });
    cases.push({ name: `${name} ${i + 1}:${dir}`, host, run: () => chat(host, chatResponse) });
  }
}
const CHAIN = ["key-auth", "ai-token-ratelimit", "ai-quota"];
for (const [i, dir] of dirs.entries()) {
  const [first, ...rest] = CHAIN.map((name) => ({ name, wasm: readFileSync(`${dir}/${name}.wasm`), config: PLUGIN_CONFIGS[name] }));
  const host = await createHost({ ...first, redis: bridge, logLevel: LOG_LEVEL, more: rest });
  cases.push({ name: `all three ${i + 1}:${dir}`, host, run: () => chat(host, chatResponse) });
}
const clockUs = clockCost();
const timings = await measure(cases, requests, 100, 500, clockUs);
console.log(`clock read ${(clockUs * 1000).toFixed(1)} ns; ${requests} chats per case`);
const width = Math.max(...cases.map((c) => c.name.length));
for (const [name, t] of timings) console.log(`${name.padEnd(width)}  ${t.median.toFixed(2)} µs median (${t.raw.toFixed(2)} µs with the clock's cost)`);
await bridge.close();
await redis.stop();
