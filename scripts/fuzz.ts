/**
 * `npm run fuzz [-- --seconds 120 --seed 1]`: mutated requests, response bodies, configurations,
 * Redis replies and injected SSE streams against the built plugins, bounded in time; prints the
 * inputs run and the traps found (for "sse", also a client output that depended on the chunking).
 */
import { fuzzRequests, fuzzBodies, fuzzConfigs, fuzzAiPlugins, fuzzInjectedStreams, type FuzzResult } from "../tests/support/fuzz.ts";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const deadline = Date.now() + arg("seconds", 60) * 1000;
let seed = arg("seed", Date.now() % 1_000_000_007);
const totals: Record<string, FuzzResult> = {};
const targets: Array<[string, (seed: number, count: number) => Promise<FuzzResult>, number]> = [
  ["requests", fuzzRequests, 20000],
  ["bodies", fuzzBodies, 10000],
  ["configs", fuzzConfigs, 300],
  ["ai+redis", fuzzAiPlugins, 4000],
  ["sse", fuzzInjectedStreams, 3000],
];
while (Date.now() < deadline) {
  for (const [name, run, batch] of targets) {
    const result = await run(seed++, batch);
    const total = (totals[name] ??= { inputs: 0, traps: 0, firstTrap: null });
    total.inputs += result.inputs;
    total.traps += result.traps;
    total.firstTrap ??= result.firstTrap;
  }
}
let inputs = 0;
let traps = 0;
for (const [name, total] of Object.entries(totals)) {
  console.log(`${name.padEnd(9)} ${String(total.inputs).padStart(9)} inputs, ${total.traps} traps${total.firstTrap ? `; first: ${total.firstTrap}` : ""}`);
  inputs += total.inputs;
  traps += total.traps;
}
console.log(`total     ${String(inputs).padStart(9)} inputs, ${traps} traps (last seed ${seed - 1})`);
process.exit(traps > 0 ? 1 : 0);
