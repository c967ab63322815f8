/**
 * `npm run fleet [-- --gateways 4 --clients 200 --seconds 30]`: several host gateways on one
 * redis-server under concurrent streamed and plain chats, run twice with the same traffic:
 * reserve_tokens off (Higress's check-then-charge) and on (issue 19). Prints both runs' figures
 * side by side: each consumer's answers, its reported usage next to its Redis counter and quota,
 * and for the tight consumers what was served beyond the limit or quota and its bound. Exits 1 on
 * any mismatch (tests/support/fleet.ts fleetMismatches; the short run is in npm test).
 */
import {
  runFleet, fleetMismatches, overshootOf, quotaSpent, CONSUMERS, FREE, TIGHT_LIMIT_CONSUMERS, type FleetResult,
} from "../tests/support/fleet.ts";

/** A whole-number option from `min` to `max`; anything else stops the run naming the option. */
const arg = (name: string, fallback: number, min: number, max: number, why: string) => {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`--${name} must be a whole number from ${min} to ${max} (${why}), got ${process.argv[at + 1]}`);
    process.exit(2);
  }
  return value;
};
const options = {
  gateways: arg("gateways", 4, 1, 16, "one process each"),
  clients: arg("clients", 200, CONSUMERS.length, 2000, "at least one per consumer"),
  // The counters are compared with the usage of one 60 s rate-limit window, settles included.
  seconds: arg("seconds", 30, 1, 45, "the run and its settles fit one rate-limit window of 60 s"),
};
const modes: Array<[string, boolean]> = [["reserve_tokens off (Higress)", false], ["reserve_tokens on", true]];
const results: FleetResult[] = [];
for (const [, reserve] of modes) results.push(await runFleet({ ...options, reserve }));

/** One figure per mode, side by side. */
const rows: Array<[string, ...string[]]> = [["", ...modes.map(([name]) => name)]];
const row = (label: string, figure: (r: FleetResult) => string) => rows.push([label, ...results.map(figure)]);
row("requests", (r) => `${r.requests} in ${r.seconds.toFixed(1)} s (${(r.requests / r.seconds).toFixed(0)}/s)`);
for (const c of CONSUMERS) {
  row(`${c}: 200 / 429 / 403 / other`, (r) => {
    const t = r.tally[c];
    return `${t.ok} / ${t.rateLimited} / ${t.noQuota} / ${t.other}`;
  });
  row("  usage told, quota spent, counter", (r) => `${r.tally[c].usage}, ${quotaSpent(r, c)}, ${r.counters[c] ?? 0}`);
  if (FREE.includes(c)) continue;
  const budget = TIGHT_LIMIT_CONSUMERS.includes(c) ? "limit" : "quota";
  row(`  ${budget} ${overshootOf(results[0], c).budget}: served beyond it (bound)`, (r) => {
    const o = overshootOf(r, c);
    return `${o.over} (≤ ${o.bound} = ${r.tally[c].clients} clients × ${r.reserve ? `${r.tally[c].maxShortfall} underestimated` : `${r.tally[c].maxUsage} usage`})`;
  });
}
const mismatches = results.map(fleetMismatches);
row("mismatches", (r) => String(fleetMismatches(r).length));

console.log(`${options.gateways} gateways, ${options.clients} clients, ${options.seconds} s per mode, one redis-server`);
const widths = rows[0].map((_, k) => Math.max(...rows.map((r) => r[k].length)));
for (const r of rows) console.log(r.map((cell, k) => cell.padEnd(widths[k])).join("  ").trimEnd());
mismatches.forEach((list, m) => list.forEach((what) => console.log(`MISMATCH ${modes[m][0]}: ${what}`)));
process.exit(mismatches.some((list) => list.length > 0) ? 1 : 0);
