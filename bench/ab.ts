/**
 * `npm run bench:ab -- <dirA> <dirB> …`: wasm time per chat of the AI plugins built into each
 * directory (`<dir>/ai-quota.wasm`, `<dir>/ai-token-ratelimit.wasm`) and of the walkthrough's chain
 * of all three (with `<dir>/key-auth.wasm`), side by side in one process and interleaved, so that
 * two builds are compared under the same machine state. Figures vary by
 * ±10% between processes on a shared machine; within one process a difference of 0.1 µs shows.
 * `RUNS=3` repeats the comparison in three processes and prints, per case, the median of their
 * medians with each run's figure and the ratio to the first directory (the README's A/B tables).
 */
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createHost } from "../host/direct.ts";
import { measure, clockCost } from "./guest-time.ts";
import { LOG_LEVEL, PLUGIN_CONFIGS, benchRedis, chat, chatResponse } from "./scenario.ts";

const dirs = process.argv.slice(2);
if (dirs.length === 0) throw new Error("usage: npm run bench:ab -- <build dir> [<build dir> …]");
const requests = Number(process.env.REQUESTS ?? 10_000);
const runs = Number(process.env.RUNS ?? 1);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`RUNS must be a whole number of at least 1, not ${process.env.RUNS}`);
if (runs > 1) {
  summarise(Array.from({ length: runs }, (_, run) => {
    console.error(`run ${run + 1} of ${runs}…`);
    const out = execFileSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), ...dirs], { env: { ...process.env, RUNS: "1" }, encoding: "utf8" });
    return out.split("\n");
  }));
  process.exit(0);
}

/** Per case and directory, the median of the runs' medians, each run's figure, the ratio to the first directory. */
function summarise(outputs: string[][]): void {
  const figures = new Map<string, number[]>();
  for (const lines of outputs) {
    for (const line of lines) {
      const m = /^(.+?) (\d+):(.+?)\s+([\d.]+) µs median/.exec(line);
      if (m) figures.set(`${m[1]}\t${m[3]}`, [...(figures.get(`${m[1]}\t${m[3]}`) ?? []), Number(m[4])]);
    }
  }
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const half = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
  };
  for (const name of ["ai-quota", "ai-token-ratelimit", "all three"]) {
    const first = median(figures.get(`${name}\t${dirs[0]}`) ?? [NaN]);
    console.log(name);
    for (const dir of dirs) {
      const values = figures.get(`${name}\t${dir}`) ?? [];
      const m = median(values);
      console.log(`  ${dir.padEnd(Math.max(...dirs.map((d) => d.length)))}  ${m.toFixed(2)} µs (${values.map((v) => v.toFixed(2)).join(", ")})  x${(m / first).toFixed(3)}`);
    }
  }
}
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
