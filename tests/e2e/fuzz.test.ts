import { test } from "node:test";
import assert from "node:assert/strict";
import { fuzzRequests, fuzzBodies, fuzzConfigs, fuzzAiPlugins, fuzzRequestBodies, fuzzQuotaPaths, fuzzInjectedStreams } from "../support/fuzz.ts";

// A fixed-seed slice of `npm run fuzz`: same inputs every run, so a trap here always reproduces.
test("20 000 mutated requests through key-auth never trap the VM", async () => {
  const result = await fuzzRequests(20251125, 20000);
  assert.equal(result.inputs, 20000);
  assert.equal(result.traps, 0, `first trapping input: ${result.firstTrap}`);
});

test("10 000 mutated, random and deeply nested response bodies, cut at random points, never trap the usage reader", async () => {
  const result = await fuzzBodies(4242, 10000);
  assert.equal(result.traps, 0, `first trapping input: ${result.firstTrap}`);
});

test("3 000 mutated SSE answers to injected streams reach the client as the same bytes whole or cut anywhere, and never trap", async () => {
  const result = await fuzzInjectedStreams(1510, 3000);
  assert.equal(result.inputs, 3000);
  assert.equal(result.traps, 0, `first failing input: ${result.firstTrap}`);
});

test("600 mutated and random JSON configurations are refused or accepted by each plugin, never trap it", async () => {
  const result = await fuzzConfigs(7, 600);
  assert.equal(result.traps, 0, `first trapping input: ${result.firstTrap}`);
});

test("4 000 mutated requests through ai-quota, ai-token-ratelimit and ai-statistics, with mutated, random or failed Redis replies, never trap", async () => {
  const result = await fuzzAiPlugins(1201, 4000);
  assert.equal(result.inputs, 4000);
  assert.equal(result.traps, 0, `first trapping input: ${result.firstTrap}`);
});

test("4 000 request bodies with escaped, repeated, case-folded or invalid keys and odd encodings: never a trap, never a stream forwarded unmetered", async () => {
  const result = await fuzzRequestBodies(1502, 4000);
  assert.equal(result.inputs, 4000);
  assert.equal(result.traps, 0, `first trapping input: ${result.firstTrap}`);
  assert.equal(result.misses, 0, `first unmetered input: ${result.firstMiss}`);
});

test("4 000 spellings of LLM and admin paths through ai-quota for a consumer without quota: never a trap, nothing forwarded (Q2)", async () => {
  const result = await fuzzQuotaPaths(1503, 4000);
  assert.equal(result.traps, 0, `first trapping input: ${result.firstTrap}`);
  assert.equal(result.misses, 0, `first unchecked input: ${result.firstMiss}`);
});
