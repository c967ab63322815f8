/**
 * `npm run fuzz [-- --seconds 120 --seed 1]`: mutated requests, response bodies, configurations and
 * Redis replies against the built plugins, bounded in time; prints the inputs run and the traps found,
 * and for the checked targets (host spellings, huge numbers, injected SSE streams) the inputs answered
 * wrongly ("misses").
 */
import { fuzzRequests, fuzzBodies, fuzzConfigs, fuzzAiPlugins, fuzzRequestBodies, fuzzQuotaPaths, fuzzInjectedStreams, type FuzzResult } from "../tests/support/fuzz.ts";
import { fuzzHostSpellings, fuzzConfigNumbers, fuzzAdminNumbers, type CheckedFuzzResult } from "../tests/support/fuzz-edges.ts";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const deadline = Date.now() + arg("seconds", 60) * 1000;
let seed = arg("seed", Date.now() % 1_000_000_007);
const totals: Record<string, FuzzResult & Partial<CheckedFuzzResult>> = {};
const targets: Array<[string, (seed: number, count: number) => Promise<FuzzResult & Partial<CheckedFuzzResult>>, number]> = [
  ["requests", fuzzRequests, 20000],
  ["bodies", fuzzBodies, 10000],
  ["configs", fuzzConfigs, 300],
  ["ai+redis", fuzzAiPlugins, 4000],
  ["req-body", fuzzRequestBodies, 2000],
  ["paths", fuzzQuotaPaths, 2000],
  ["hosts", fuzzHostSpellings, 10000],
  ["numbers", fuzzConfigNumbers, 200],
  ["admin", fuzzAdminNumbers, 2000],
  ["sse", fuzzInjectedStreams, 3000],
];
while (Date.now() < deadline) {
  for (const [name, run, batch] of targets) {
    const result = await run(seed++, batch);
    const total = (totals[name] ??= { inputs: 0, traps: 0, firstTrap: null });
    total.inputs += result.inputs;
    total.traps += result.traps;
    total.firstTrap ??= result.firstTrap;
    if (result.misses !== undefined) {
      total.misses = (total.misses ?? 0) + result.misses;
      total.firstMiss ??= result.firstMiss ?? null;
    }
  }
}
let inputs = 0;
let traps = 0;
let misses = 0;
for (const [name, total] of Object.entries(totals)) {
  const missed = total.misses === undefined ? "" : `, ${total.misses} misses${total.firstMiss ? `; first: ${total.firstMiss}` : ""}`;
  console.log(`${name.padEnd(9)} ${String(total.inputs).padStart(9)} inputs, ${total.traps} traps${total.firstTrap ? `; first: ${total.firstTrap}` : ""}${missed}`);
  inputs += total.inputs;
  traps += total.traps;
  misses += total.misses ?? 0;
}
console.log(`total     ${String(inputs).padStart(9)} inputs, ${traps} traps, ${misses} misses (last seed ${seed - 1})`);
process.exit(traps > 0 || misses > 0 ? 1 : 0);
