// ai-quota checks and charges every request but the admin API, whatever its path (Q2): an
// upstream that normalises paths serves all of these spellings as LLM calls.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";

const ADMIN = "admin-key-0001";
const USER = "user1-key-0002";
const NO_QUOTA = "Request denied by ai quota check, No quota left";
const CHAT = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });
const STREAMED = JSON.stringify({ model: "qwen-max", stream: true, messages: [{ role: "user", content: "Who are you?" }] });
/** The upstream's usage: 3 prompt words, 12 completion tokens. */
const CHARGE = 3 + 12;
const REDIS_CLUSTER = "outbound|80||local-redis.static";
const KEY_AUTH = { keys: ["x-api-key"], in_header: true, consumers: [{ name: "aliyun-admin", credential: ADMIN }, { name: "aliyun-user1", credential: USER }] };
const QUOTA = { admin_consumer: "aliyun-admin", admin_path: "/quota", redis: { service_name: "local-redis.static", service_port: 80, timeout: 2000 } };

/** LLM calls an upstream that normalises paths serves, none of them an exact documented suffix. */
const SPELLINGS = [
  "/v1/chat/completions/",
  "/V1/Chat/Completions",
  "/v1/chat//completions",
  "/v1/chat/completions;x=1",
  "/openai/deployments/gpt-4o/chat/completions?api-version=2024-06-01",
  "/api/chat",
];
/** Paths that look like the admin API's but are not its documented suffixes: LLM calls, checked. */
const ADMIN_LOOK_ALIKES = [
  "/v1/chat/completions/quota/?consumer=aliyun-user1",
  "/V1/chat/completions/quota?consumer=aliyun-user1",
  "/v1/chat/completions/Quota?consumer=aliyun-user1",
  "/v1/chat//completions/quota?consumer=aliyun-user1",
  "/v1/chat/completions/quota;x=1?consumer=aliyun-user1",
];

let upstream: Upstream;
let redis: RedisServer;
let g: Gateway;

before(async () => {
  upstream = await startUpstream({ completionTokens: 12, normalisePaths: true });
  redis = await startRedis();
  g = await startGateway({
    clusters: { llm: { url: upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: KEY_AUTH },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: QUOTA },
    ],
  });
});
after(async () => {
  assert.equal(g.chain.failed(), false, "no VM trapped");
  await g.close();
  await upstream.close();
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
});

const call = (path: string, key: string, body?: string) =>
  request(`${g.url}${path}`, { path, headers: [["x-api-key", key], ["content-type", "application/json"]], ...(body !== undefined ? { body, method: "POST" } : {}) });

test("a consumer with no quota gets 403 on every spelling of an LLM call, and on any other path; nothing is forwarded", async () => {
  const forwarded = upstream.requests.length;
  for (const path of SPELLINGS) {
    const res = await call(path, USER, CHAT);
    assert.deepEqual([res.status, res.body], [403, NO_QUOTA], path);
  }
  const models = await call("/v1/models", USER);
  assert.deepEqual([models.status, models.body], [403, NO_QUOTA], "a request without a body is checked too");
  assert.equal(upstream.requests.length, forwarded, "nothing reached the upstream");
});

test("with quota, every spelling is served and its usage charged in Redis, streamed or not", async () => {
  await redis.client.set("chat_quota:aliyun-user1", 1000);
  let expected = 1000;
  for (const path of SPELLINGS) {
    for (const body of [CHAT, STREAMED]) {
      const res = await call(path, USER, body);
      assert.equal(res.status, 200, path);
      assert.match(res.body, body === STREAMED ? /data: \[DONE\]/ : /"usage"/, path);
      expected -= CHARGE;
      await waitFor(async () => (await redis.client.get("chat_quota:aliyun-user1")) === String(expected));
    }
  }
});

test("look-alikes of the admin API are LLM calls: checked, never answered as admin, and never change a quota", async () => {
  const forwarded = upstream.requests.length;
  for (const path of ADMIN_LOOK_ALIKES) {
    for (const key of [ADMIN, USER]) {
      const res = await call(path, key);
      assert.deepEqual([res.status, res.body], [403, NO_QUOTA], `${path} as ${key}`);
    }
  }
  const refresh = await call("/v1/chat/completions/quota/refresh/", ADMIN, "consumer=aliyun-user1&quota=999999");
  assert.deepEqual([refresh.status, refresh.body], [403, NO_QUOTA]);
  assert.equal(upstream.requests.length, forwarded, "nothing reached the upstream");

  // With quota of its own, the admin's look-alike goes upstream as an LLM call.
  await redis.client.set("chat_quota:aliyun-user1", 50);
  await redis.client.set("chat_quota:aliyun-admin", 100);
  const served = await call("/v1/chat/completions/quota/delta/", ADMIN, "consumer=aliyun-user1&value=999999");
  assert.equal(served.status, 200);
  assert.equal(upstream.requests.length, forwarded + 1);
  assert.equal(await redis.client.get("chat_quota:aliyun-user1"), "50", "no delta was applied");

  // The documented paths are still the admin API.
  const query = await call("/v1/chat/completions/quota?consumer=aliyun-user1", ADMIN);
  assert.equal(query.body, '{"consumer":"aliyun-user1","quota":50}');
  assert.equal(upstream.requests.length, forwarded + 1);
});
