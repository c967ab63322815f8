/**
 * `npm run fleet [-- --gateways 4 --clients 200 --seconds 30]`: several host gateways on one
 * redis-server under concurrent streamed and plain chats; prints each consumer's reported usage
 * next to its Redis counter and quota, and exits 1 on any mismatch (the short run is in npm test).
 */
import { runFleet, FREE, TIGHT, TIGHT_LIMIT } from "../tests/support/fleet.ts";

const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const options = { gateways: arg("gateways", 4), clients: arg("clients", 200), seconds: arg("seconds", 30) };
const result = await runFleet(options);
let failures = 0;
const check = (ok: boolean, what: string) => {
  if (!ok) {
    failures++;
    console.log(`MISMATCH ${what}`);
  }
};
console.log(`${options.gateways} gateways, ${options.clients} clients, ${result.seconds.toFixed(1)} s: ${result.requests} requests (${(result.requests / result.seconds).toFixed(0)}/s)${result.trapped ? ", a VM TRAPPED" : ""}`);
check(!result.trapped, "a VM trapped");
for (const c of [...FREE, ...TIGHT]) {
  const t = result.tally[c];
  const counter = result.counters[c];
  const spent = result.quotaStart - result.quotas[c];
  console.log(`${c.padEnd(8)} ${String(t.ok).padStart(6)} ok ${String(t.rejected).padStart(6)} 429 ${String(t.other).padStart(3)} other; usage ${t.usage}, quota spent ${spent}, counter ${counter}`);
  check(t.other === 0, `${c}: answers other than 200 and 429`);
  check(spent === t.usage, `${c}: quota spent ${spent} ≠ usage ${t.usage}`);
  // Every token served is counted, also past a limit (R1 amended).
  check(counter === t.usage, `${c}: counter ${counter} ≠ usage ${t.usage}`);
  if (TIGHT.includes(c)) {
    const bound = t.clients * t.maxUsage;
    console.log(`${"".padEnd(8)} limit ${TIGHT_LIMIT}: served over it ${t.usage - TIGHT_LIMIT} ≤ ${t.clients} clients × ${t.maxUsage} = ${bound}`);
    check(t.usage - TIGHT_LIMIT <= bound, `${c}: served ${t.usage - TIGHT_LIMIT} beyond the limit, bound ${bound}`);
  }
}
process.exit(failures > 0 ? 1 : 0);
