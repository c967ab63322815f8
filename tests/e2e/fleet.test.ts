import { test } from "node:test";
import assert from "node:assert/strict";
import { runFleet, FREE, TIGHT, TIGHT_LIMIT } from "../support/fleet.ts";

// The short run; `npm run fleet` is the long one (4 gateways, 200 clients, 30 s).
test("4 gateways on one Redis, 40 clients mixing streams and chats: counters and quotas equal the usage the clients were told", async () => {
  const result = await runFleet({ gateways: 4, clients: 40, seconds: 4 });
  assert.equal(result.trapped, false);
  assert.ok(result.requests > 200, `only ${result.requests} requests`);
  for (const c of [...FREE, ...TIGHT]) {
    const t = result.tally[c];
    assert.equal(t.other, 0, `${c}: answers other than 200 and 429`);
    // ai-quota charges every answered chat: the quota drops by exactly what the clients saw.
    assert.equal(result.quotas[c], result.quotaStart - t.usage, `${c}: quota`);
  }
  for (const c of FREE) {
    assert.equal(result.tally[c].rejected, 0, `${c}: never limited`);
    assert.equal(result.counters[c], result.tally[c].usage, `${c}: rate-limit counter`);
  }
  for (const c of TIGHT) {
    const t = result.tally[c];
    assert.ok(t.rejected > 0, `${c}: the tight limit was reached`);
    // Every token served is counted, also past the limit (R1 amended)...
    assert.equal(result.counters[c], t.usage, `${c}: rate-limit counter`);
    // ...and what is served beyond it is at most one request in flight per client.
    assert.ok(t.usage - TIGHT_LIMIT <= t.clients * t.maxUsage, `${c}: served ${t.usage - TIGHT_LIMIT} beyond the limit with ${t.clients} clients`);
  }
});
