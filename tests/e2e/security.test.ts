/**
 * Secrets and oversized input (G8, issue 9): with every log line on (trace), API keys and the
 * Redis password appear in no log line, metric name or reply body, whatever the request does; and
 * huge header values get the documented answer, never a trap.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { renderPrometheus } from "../../host/prometheus.ts";
import { createHost, GET } from "../../host/direct.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { request } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";

const REDIS_PASSWORD = "redis-secret-5f1e";
const ADMIN = "admin-secret-9a2b";
const USER1 = "user1-secret-3c4d";
const SECRETS = [REDIS_PASSWORD, ADMIN, USER1];
const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS_BLOCK = { service_name: "local-redis.static", password: REDIS_PASSWORD, timeout: 300 };
const KEY_AUTH = { keys: ["x-api-key", "authorization"], in_header: true, consumers: [{ name: "aliyun-admin", credential: ADMIN }, { name: "aliyun-user1", credential: USER1 }] };

let upstream: Upstream;
let redis: RedisServer;
let g: Gateway;
const bodies: string[] = [];

before(async () => {
  upstream = await startUpstream();
  redis = await startRedis({ password: REDIS_PASSWORD });
  g = await startGateway({
    log_level: 0,
    clusters: { llm: { url: upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: KEY_AUTH },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "aliyun-admin", redis: REDIS_BLOCK } },
      { name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { rule_name: "r", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 30 }] }], redis: REDIS_BLOCK } },
    ],
  });
});
after(async () => {
  await g.close();
  await upstream.close();
  await redis.stop();
});

async function send(path: string, headers: Array<[string, string]>, body?: string): Promise<number> {
  const response = await request(`${g.url}${path}`, { headers: [["content-type", "application/json"], ...headers], ...(body !== undefined ? { body, method: "POST" } : {}) });
  bodies.push(response.body, JSON.stringify(response.headers));
  return response.status;
}

const CHAT = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });

test("no API key or Redis password reaches a log line, a metric or a reply, through success, refusals and a Redis outage", async () => {
  assert.equal(await send("/v1/chat/completions/quota/refresh", [["x-api-key", ADMIN], ["content-type", "application/x-www-form-urlencoded"]], "consumer=aliyun-user1&quota=1000"), 200);
  assert.equal(await send("/v1/chat/completions", [["x-api-key", USER1]], CHAT), 200);
  assert.equal(await send("/v1/chat/completions", [["authorization", `Bearer ${USER1}`]], CHAT), 200);
  assert.equal(await send("/v1/chat/completions", [["x-api-key", `${USER1}x`]], CHAT), 401);
  assert.equal(await send("/v1/chat/completions", [["x-api-key", USER1], ["authorization", ADMIN]], CHAT), 401);
  assert.equal(await send(`/v1/chat/completions?apikey=${ADMIN}`, [], CHAT), 401);
  assert.equal(await send("/v1/chat/completions/quota?consumer=aliyun-user1", [["x-api-key", USER1]]), 403);
  assert.equal(await send("/v1/chat/completions/quota?consumer=aliyun-user1", [["x-api-key", ADMIN]]), 200);
  await redis.kill();
  try {
    assert.equal(await send("/v1/chat/completions", [["x-api-key", USER1]], CHAT), 503);
  } finally {
    await redis.restart();
  }

  const logs = g.logs().map((l) => l.message);
  assert.ok(logs.length >= 5, "trace logging produced lines to check");
  const metrics = renderPrometheus(g.metrics());
  for (const secret of SECRETS) {
    assert.equal(logs.find((line) => line.includes(secret)), undefined, `a log line holds ${secret}`);
    assert.ok(!metrics.includes(secret), `a metric holds ${secret}`);
    assert.equal(bodies.find((b) => b.includes(secret)), undefined, `a reply holds ${secret}`);
  }
  assert.equal(g.chain.failed(), false);
});

test("a 1 MB API key header gets key-auth's 401 and a 1 MB cookie is only a non-matching value; nothing traps", async () => {
  const keyAuth = await createHost({ wasm: pluginWasm("key-auth"), config: KEY_AUTH });
  const huge = "k".repeat(1 << 20);
  const s = keyAuth.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["x-api-key", huge]]), true);
  assert.equal(s.response()?.status, 401);
  assert.equal(s.upstream.headers, null);
  assert.equal(keyAuth.chain.failed(), false);

  const limiter = await createHost({
    wasm: pluginWasm("ai-token-ratelimit"),
    config: { rule_name: "r", rule_items: [{ limit_by_cookie: "session", limit_keys: [{ key: "abc", token_per_minute: 1 }] }], redis: { service_name: "r.static" } },
  });
  const t = limiter.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["cookie", `session=${huge}; other=1`]]), true);
  assert.ok(t.upstream.headers !== null, "no rule item matches: the request goes on");
  assert.equal(limiter.logs().find((l) => l.message.includes("store unavailable")), undefined, "without asking Redis");
  assert.equal(limiter.chain.failed(), false);
});

test("a JSON request body past Envoy's 1 MiB buffer limit gets the host's 413 while an AI plugin holds it; nothing traps", async () => {
  const limiter = await createHost({
    wasm: pluginWasm("ai-token-ratelimit"),
    config: { rule_name: "r", rule_items: [{ limit_by_header: "x-tenant", limit_keys: [{ key: "gold", token_per_minute: 1 }] }], redis: { service_name: "r.static" } },
  });
  const s = limiter.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["content-type", "application/json"]]), false);
  const piece = Buffer.alloc(256 * 1024, 0x20);
  for (let i = 0; i < 5 && s.response() === null; i++) s.sendRequestBody(piece, false);
  assert.deepEqual([s.response()?.status, s.response()?.body], [413, "Payload Too Large"]);
  assert.equal(s.upstream.headers, null, "nothing reached the upstream");
  assert.equal(limiter.chain.failed(), false);
});
