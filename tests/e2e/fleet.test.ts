import { test } from "node:test";
import assert from "node:assert/strict";
import { runFleet, fleetMismatches, overshootOf, TIGHT_LIMIT_CONSUMERS, TIGHT_QUOTA_CONSUMERS } from "../support/fleet.ts";

// The short runs; `npm run fleet` is the long one (4 gateways, 200 clients, 30 s per mode).
const SHORT = { gateways: 4, clients: 40, seconds: 3 };
const TIGHT = [...TIGHT_LIMIT_CONSUMERS, ...TIGHT_QUOTA_CONSUMERS];

test("4 gateways on one Redis, 40 clients mixing streams and chats, reserve_tokens off (Higress's check-then-charge): counters and quotas equal the usage told, and a tight limit or quota is passed by at most one request in flight per client", async () => {
  const result = await runFleet({ ...SHORT, reserve: false });
  assert.ok(result.requests > 100, `only ${result.requests} requests`);
  // Only 200, 429 from the limit, 403 from the quota; counters and quotas = usage told; bounds held.
  assert.deepEqual(fleetMismatches(result), []);
});

test("4 gateways on one Redis, 40 clients mixing streams and chats, reserve_tokens on: nothing is served beyond a tight limit or quota, and counters and quotas equal the usage told (no reservation left outstanding)", async () => {
  const result = await runFleet({ ...SHORT, reserve: true });
  assert.ok(result.requests > 100, `only ${result.requests} requests`);
  assert.deepEqual(fleetMismatches(result), []);
  // Every request's max_tokens covers its completion, so no reservation is short and the bound is 0 exactly.
  for (const c of TIGHT) {
    const { budget, over, bound } = overshootOf(result, c);
    assert.equal(result.tally[c].usage <= budget, true, `${c}: served ${result.tally[c].usage} tokens on a budget of ${budget}`);
    assert.equal(over, 0, `${c}: served beyond its budget`);
    assert.equal(bound, 0, `${c}: a reservation below its request's usage`);
  }
});
