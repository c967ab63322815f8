/**
 * Usage numbers at the edges (issue 15, item 8): whatever an upstream reports (past i64, past 2^53,
 * in exponent form, negative), both AI plugins charge a defined amount, exactly, through Lua
 * (ai-token-ratelimit) and DECRBY (ai-quota): every count and their sum saturate at USAGE_CAP, a
 * negative count is 0. Checked in Redis, through the gateway, for JSON and streamed answers.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream, type ReportedUsage } from "../support/upstream.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm, repoRoot } from "../support/paths.ts";
import { sourceConstant } from "../support/source-constants.ts";

/** The cap as shared/tokens/usage.ts defines it (2^53 - 1: what a Lua number holds exactly). */
const USAGE_CAP = BigInt(sourceConstant("shared/tokens/usage.ts", "USAGE_CAP"));
const QUOTA = 1_000_000n;
const COMPLETION = 12n;
const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80 };
const RULE = "edges";

/** What each report is charged: input + output, each and the sum saturated, a negative count 0. */
const CASES: Array<{ name: string; reported: ReportedUsage; charge: bigint }> = [
  { name: "i64 max prompt", reported: { prompt: "9223372036854775807" }, charge: USAGE_CAP },
  { name: "1e30 prompt", reported: { prompt: "1e30" }, charge: USAGE_CAP },
  { name: "1e400 prompt and completion", reported: { prompt: "1e400", completion: "1E400" }, charge: USAGE_CAP },
  { name: "2^53 + 1 completion", reported: { prompt: "7", completion: "9007199254740993" }, charge: USAGE_CAP },
  { name: "a sum past the cap", reported: { prompt: "9000000000000000000", completion: "9000000000000000000" }, charge: USAGE_CAP },
  { name: "a sum just below the cap, exact", reported: { prompt: "9007199254740000", completion: "979" }, charge: 9007199254740979n },
  { name: "a fraction in exponent form", reported: { prompt: "1.5e3" }, charge: 1500n + COMPLETION },
  { name: "a negative prompt", reported: { prompt: "-5" }, charge: COMPLETION },
];

let redis: RedisServer;
const upstreams: Upstream[] = [];
const gateways: Gateway[] = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const g of gateways) {
    assert.equal(g.chain.failed(), false, "no VM trapped");
    await g.close();
  }
  for (const u of upstreams) await u.close();
  await redis.stop();
});

/** No key-auth: the client's X-Mse-Consumer is the consumer both plugins charge. */
async function gatewayFor(reported: ReportedUsage): Promise<Gateway> {
  const upstream = await startUpstream({ completionTokens: Number(COMPLETION), reportedUsage: reported });
  upstreams.push(upstream);
  const g = await startGateway({
    clusters: { llm: { url: upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "edges", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "admin", redis: REDIS } },
      { name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { rule_name: RULE, rule_items: [{ limit_by_per_consumer: "", limit_keys: [{ key: "*", token_per_minute: 1_000_000 }] }], redis: REDIS } },
    ],
  });
  gateways.push(g);
  return g;
}

const counterKey = (consumer: string) => `higress-token-ratelimit:${RULE}:limit_by_per_consumer:60:x-mse-consumer:${consumer}`;

for (const { name, reported, charge } of CASES) {
  test(`${name}: both plugins charge ${charge} tokens, JSON and streamed`, async () => {
    const g = await gatewayFor(reported);
    for (const stream of [false, true]) {
      const consumer = `edge-${upstreams.length}-${stream ? "sse" : "json"}`;
      await redis.client.set(`chat_quota:${consumer}`, String(QUOTA));
      const answer = await request(`${g.url}/v1/chat/completions`, {
        headers: [["x-mse-consumer", consumer], ["content-type", "application/json"]],
        body: JSON.stringify({ model: "qwen-max", stream, messages: [{ role: "user", content: "Who are you?" }] }),
      });
      assert.equal(answer.status, 200);
      // Both charges are sent at the end of the answer; a charge Redis refuses never lands, so wait, then compare.
      await waitFor(async () => (await redis.client.get(counterKey(consumer))) !== null && (await redis.client.get(`chat_quota:${consumer}`)) !== String(QUOTA)).catch(() => {});
      assert.equal(await redis.client.get(counterKey(consumer)), String(charge), `ai-token-ratelimit's counter (${stream ? "SSE" : "JSON"})`);
      assert.equal(await redis.client.get(`chat_quota:${consumer}`), String(QUOTA - charge), `ai-quota's budget (${stream ? "SSE" : "JSON"})`);
    }
  });
}

test("USAGE_CAP is 2^53 - 1, and both AI plugins' READMEs say so", () => {
  assert.equal(USAGE_CAP, 2n ** 53n - 1n);
  for (const plugin of ["ai-quota", "ai-token-ratelimit"]) {
    assert.ok(readFileSync(`${repoRoot}plugins/${plugin}/README.md`, "utf8").includes("saturate at 2^53 − 1 (`USAGE_CAP`"), plugin);
  }
});
