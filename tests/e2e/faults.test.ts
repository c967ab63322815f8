/**
 * Faults in the middle of a stream, through the whole chain (key-auth, ai-quota,
 * ai-token-ratelimit) with a real redis-server: Redis going away between the check and the charge.
 * Outcome: no trap, the lost charge counted once, never retried, and the next request served and
 * charged normally. Clients hanging up and upstreams resetting: no-free-tokens.test.ts.
 */
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";

const USER1 = "user1-key-0002";
const QUOTA_KEY = "chat_quota:aliyun-user1";
const LIMIT_KEY = `higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:${USER1}`;
const PROMPT = 3;
const COMPLETION = 12;
const REDIS = { service_name: "local-redis.static", service_port: 80 };
const STREAM_BODY = JSON.stringify({ model: "qwen-max", stream: true, messages: [{ role: "user", content: "Who are you?" }] });

let redis: RedisServer;
let slow: Upstream;
const gateways: Gateway[] = [];

before(async () => {
  redis = await startRedis();
  slow = await startUpstream({ completionTokens: COMPLETION, chunkSize: 40, chunkDelayMs: 10 });
});
after(async () => {
  for (const g of gateways) {
    assert.equal(g.chain.failed(), false, "no VM trapped");
    await g.close();
  }
  await slow.close();
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
  await redis.client.set(QUOTA_KEY, 1000);
});

async function gateway(upstream: Upstream): Promise<Gateway> {
  const g = await startGateway({
    clusters: { llm: { url: upstream.url }, "outbound|80||local-redis.static": { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: [{ name: "aliyun-user1", credential: USER1 }] } },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "aliyun-admin", redis: REDIS } },
      { name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { rule_name: "default_rule", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1000 }] }], redis: REDIS } },
    ],
  });
  gateways.push(g);
  return g;
}

const HEADERS: Array<[string, string]> = [["x-api-key", USER1], ["content-type", "application/json"]];

async function charged(g: Gateway): Promise<void> {
  const answer = await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: STREAM_BODY });
  assert.equal(answer.status, 200);
  assert.match(answer.body, /data: \[DONE\]/);
  await waitFor(async () => (await redis.client.get(LIMIT_KEY)) === String(PROMPT + COMPLETION) && (await redis.client.get(QUOTA_KEY)) === String(1000 - PROMPT - COMPLETION));
}

test("Redis killed between the check and the charge: the chat is answered, the lost charge is counted once, and after a restart chats are checked and charged again", async () => {
  const g = await gateway(slow);
  const seen = slow.requests.length;
  const chat = request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: STREAM_BODY });
  // Both checks have been answered once the request reaches the upstream.
  await waitFor(() => slow.requests.length > seen);
  await redis.kill();
  try {
    const answer = await chat;
    assert.equal(answer.status, 200);
    assert.match(answer.body, /data: \[DONE\]/);
    const failures = () => g.metrics().filter((m) => m.name.endsWith("charge_failure")).map((m) => m.value);
    await waitFor(() => failures().length === 2);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(failures(), [1, 1], "one lost charge per AI plugin, counted once, never retried");
  } finally {
    await redis.restart();
  }
  // A restarted redis-server here starts empty (no persistence): give the quota back, then chat.
  await redis.client.set(QUOTA_KEY, 1000);
  await charged(g);
  assert.equal(g.chain.failed(), false);
});
