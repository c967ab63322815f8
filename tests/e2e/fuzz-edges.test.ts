import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzHostSpellings, fuzzConfigNumbers, fuzzAdminNumbers } from "../support/fuzz-edges.ts";

// Fixed-seed slices of `npm run fuzz`'s checked targets: same inputs every run.
test("5 000 host spellings (case, port, trailing dot, IPv6) against _match_domain_ rules: every rule holds, no trap (G9)", async () => {
  const result = await fuzzHostSpellings(1509, 5000);
  assert.equal(result.inputs, 5000);
  assert.deepEqual([result.traps, result.misses], [0, 0], `first trap: ${result.firstTrap}; first miss: ${result.firstMiss}`);
});

test("150 configurations with a huge number in an integer field: past 2^53 - 1 always refused naming the field, no trap (G7)", async () => {
  const result = await fuzzConfigNumbers(53, 150);
  assert.deepEqual([result.traps, result.misses], [0, 0], `first trap: ${result.firstTrap}; first miss: ${result.firstMiss}`);
});

test("1 000 quota refreshes and deltas with numbers at the edges: written exactly or refused with nothing sent, no trap (G7)", async () => {
  const result = await fuzzAdminNumbers(64, 1000);
  assert.deepEqual([result.traps, result.misses], [0, 0], `first trap: ${result.firstTrap}; first miss: ${result.firstMiss}`);
});
