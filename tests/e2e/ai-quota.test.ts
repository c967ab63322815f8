import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startRedis, withBridge, type RedisServer } from "../support/redis.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { createHost, GET } from "../../host/direct.ts";
import type { HeaderList } from "../../host/stream-api.ts";
import { aiMetric, quotaMetric } from "../support/metric-names.ts";

const ADMIN = "admin-key-0001";
const USER1 = "user1-key-0002";
const USER2 = "user2-key-0003";
const MESSAGES = [{ role: "user", content: "Who are you?" }];
const CHARGE = 3 + 12;

let upstream: Upstream;
let redis: RedisServer;
let g: Gateway;

const KEY_AUTH = {
  keys: ["x-api-key"],
  in_header: true,
  consumers: [{ name: "aliyun-admin", credential: ADMIN }, { name: "aliyun-user1", credential: USER1 }, { name: "aliyun-user2", credential: USER2 }],
};
const REDIS_CLUSTER = "outbound|80||local-redis.static";
const QUOTA = { redis_key_prefix: "chat_quota:", admin_consumer: "aliyun-admin", admin_path: "/quota", redis: { service_name: "local-redis.static", service_port: 80, timeout: 2000 } };
const RATELIMIT = { rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 5 }] }], rule_name: "default_rule", redis: { service_name: "local-redis.static", service_port: 80 } };

/** key-auth, then ai-quota with `quota`, then (when given) ai-token-ratelimit: Higress's order. */
function quotaGateway(upstreamUrl: string, quota: object = QUOTA, options: { rateLimit?: object; splitEvery?: number } = {}): Promise<Gateway> {
  const plugins = [
    { name: "key-auth", wasm: pluginWasm("key-auth"), config: KEY_AUTH },
    { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: quota },
  ];
  if (options.rateLimit) plugins.push({ name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: options.rateLimit });
  return startGateway({
    clusters: { llm: { url: upstreamUrl }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins,
    ...(options.splitEvery ? { split_response_body: { every: options.splitEvery } } : {}),
  });
}

before(async () => {
  upstream = await startUpstream({ completionTokens: 12 });
  redis = await startRedis();
  g = await quotaGateway(upstream.url, QUOTA, { rateLimit: RATELIMIT });
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

const admin = (path: string, body?: string, key = ADMIN) =>
  request(`${g.url}${path}`, { headers: [["x-api-key", key], ["x-higress-llm-model", "qwen-max"]], ...(body !== undefined ? { body, method: "POST" } : {}) });
const chat = (key: string, path = "/v1/chat/completions") =>
  request(`${g.url}${path}`, { headers: [["x-api-key", key], ["content-type", "application/json"]], body: JSON.stringify({ model: "qwen-max", messages: MESSAGES }) });

test("the walkthrough's session gives the walkthrough's answers", async () => {
  const forwardedBefore = upstream.requests.length;
  const query = await admin("/v1/chat/completions/quota?consumer=aliyun-user1");
  assert.equal(query.status, 200);
  assert.equal(query.headers["content-type"], "application/json");
  assert.equal(query.body, '{"consumer":"aliyun-user1","quota":0}');
  const refresh = await admin("/v1/chat/completions/quota/refresh", "consumer=aliyun-user1&quota=100");
  assert.deepEqual([refresh.status, refresh.body], [200, "refresh quota successful"]);
  const delta = await admin("/v1/chat/completions/quota/delta", "consumer=aliyun-user1&value=100");
  assert.deepEqual([delta.status, delta.body], [200, "delta quota successful"]);
  assert.equal(await redis.client.get("chat_quota:aliyun-user1"), "200");
  assert.equal(upstream.requests.length, forwardedBefore, "admin requests are never forwarded");

  assert.equal((await chat(USER1)).status, 200);
  await waitFor(async () => (await redis.client.get("chat_quota:aliyun-user1")) === String(200 - CHARGE));
  const second = await chat(USER1);
  assert.equal(second.status, 429);
  assert.equal(second.body, "Too many requests");

  const noQuota = await chat(USER2);
  assert.deepEqual([noQuota.status, noQuota.body], [403, "Request denied by ai quota check, No quota left"]);
  const noKey = await request(`${g.url}/v1/chat/completions`, { body: "{}" });
  assert.equal(noKey.status, 401);
});

test("only admin_consumer reaches the admin API, even with a spoofed X-Mse-Consumer", async () => {
  const asUser = await admin("/v1/chat/completions/quota?consumer=aliyun-user1", undefined, USER1);
  assert.deepEqual([asUser.status, asUser.body], [403, "Request denied by ai quota check. Unauthorized admin consumer."]);
  const spoofed = await request(`${g.url}/v1/chat/completions/quota/refresh`, { method: "POST", headers: [["x-api-key", USER1], ["x-mse-consumer", "aliyun-admin"]], body: "consumer=aliyun-user1&quota=999999" });
  assert.equal(spoofed.status, 403);
  assert.equal(await redis.client.get("chat_quota:aliyun-user1"), null);
});

test("admin errors: missing consumer, non-integer values, an empty refresh answered at once (Q4), negative delta", async () => {
  assert.deepEqual([(await admin("/v1/chat/completions/quota")).body], ["Request denied by ai quota check. consumer can't be empty."]);
  const badRefresh = await admin("/v1/chat/completions/quota/refresh", "consumer=aliyun-user1&quota=1.5");
  assert.deepEqual([badRefresh.status, badRefresh.body], [403, "Request denied by ai quota check. consumer can't be empty and quota must be integer."]);
  const empty = await request(`${g.url}/v1/chat/completions/quota/refresh`, { method: "POST", headers: [["x-api-key", ADMIN], ["content-length", "0"]] });
  assert.deepEqual([empty.status, empty.body], [403, "Request denied by ai quota check. consumer can't be empty and quota must be integer."]);
  const badDelta = await admin("/v1/chat/completions/quota/delta", "consumer=&value=5");
  assert.equal(badDelta.body, "Request denied by ai quota check. consumer can't be empty and value must be integer.");
  await admin("/v1/chat/completions/quota/delta", "consumer=c&value=-7");
  assert.equal(await redis.client.get("chat_quota:c"), "-7");
});

test("paths with prefixes work, and /v1/responses and /v1/messages are checked and charged (Q2)", async () => {
  const query = await admin("/api/v1/chat/completions/quota?consumer=aliyun-user2");
  assert.equal(query.body, '{"consumer":"aliyun-user2","quota":0}');
  assert.equal((await chat(USER2, "/v1/responses")).status, 403);
  await redis.client.set("chat_quota:aliyun-user2", 1000);
  assert.equal((await chat(USER2, "/v1/messages")).status, 200);
  await waitFor(async () => (await redis.client.get("chat_quota:aliyun-user2")) === String(1000 - CHARGE));
});

test("a chat path with a query, a fragment or a percent escape is still checked, and charged", async () => {
  for (const path of ["/v1/chat/completions?api-version=1", "/v1/chat/completion%73", "/v1/chat/completions#x"]) {
    assert.equal((await chat(USER2, path)).status, 403, path);
  }
  await redis.client.set("chat_quota:aliyun-user2", 1000);
  assert.equal((await chat(USER2, "/v1/chat/completions?api-version=1")).status, 200);
  await waitFor(async () => (await redis.client.get("chat_quota:aliyun-user2")) === String(1000 - CHARGE));
});

test("a custom admin_path moves the whole admin API under it; the default path is then an ordinary request, checked (Q2)", async () => {
  const custom = await quotaGateway(upstream.url, { ...QUOTA, admin_path: "/budget" });
  try {
    const call = (path: string, body?: string) =>
      request(`${custom.url}${path}`, { headers: [["x-api-key", ADMIN]], ...(body !== undefined ? { body, method: "POST" } : {}) });
    assert.equal((await call("/v1/chat/completions/budget/refresh", "consumer=aliyun-user1&quota=50")).body, "refresh quota successful");
    assert.equal((await call("/v1/chat/completions/budget/delta", "consumer=aliyun-user1&value=5")).body, "delta quota successful");
    assert.equal((await call("/v1/chat/completions/budget?consumer=aliyun-user1")).body, '{"consumer":"aliyun-user1","quota":55}');
    const forwarded = upstream.requests.length;
    assert.equal((await call("/v1/chat/completions/quota?consumer=aliyun-user1")).status, 403, "the admin consumer has no quota of its own");
    assert.equal(upstream.requests.length, forwarded);
    await redis.client.set("chat_quota:aliyun-admin", 10);
    assert.equal((await call("/v1/chat/completions/quota?consumer=aliyun-user1")).status, 200);
    assert.equal(upstream.requests.length, forwarded + 1, "/quota is no admin path here: it goes upstream");
  } finally {
    await custom.close();
  }
});

test("Redis down: 503 naming the quota store, never a hang (Q3)", async () => {
  await redis.kill();
  try {
    const started = Date.now();
    const res = await chat(ADMIN);
    assert.deepEqual([res.status, res.body], [503, "Request denied by ai quota check. The quota store is unavailable."]);
    const query = await admin("/v1/chat/completions/quota?consumer=x");
    assert.deepEqual([query.status, query.body], [503, "redis error:cannot connect to redis cluster"]);
    assert.ok(Date.now() - started < 4000);
  } finally {
    await redis.restart();
  }
});

test("a quota that is not a number is no quota (403); a quota key Redis cannot GET is a store failure (503)", async () => {
  await redis.client.set("chat_quota:aliyun-user2", "plenty");
  const text = await chat(USER2);
  assert.deepEqual([text.status, text.body], [403, "Request denied by ai quota check, No quota left"]);
  await redis.client.command("DEL", "chat_quota:aliyun-user2");
  await redis.client.command("HSET", "chat_quota:aliyun-user2", "quota", "100");
  const hash = await chat(USER2);
  assert.deepEqual([hash.status, hash.body], [503, "Request denied by ai quota check. The quota store is unavailable."]);
  assert.equal(await redis.client.command("TYPE", "chat_quota:aliyun-user2"), "hash", "never written");
});

test("50 concurrent chats of one consumer: the final quota is the start minus the charged usage", async () => {
  // A separate gateway without the rate limit, so every chat is charged.
  const solo = await quotaGateway(upstream.url);
  try {
    await redis.client.set("chat_quota:aliyun-user1", 100000);
    const results = await Promise.all(Array.from({ length: 50 }, () => request(`${solo.url}/v1/chat/completions`, { headers: [["x-api-key", USER1], ["content-type", "application/json"]], body: JSON.stringify({ model: "m", messages: MESSAGES }) })));
    assert.ok(results.every((r) => r.status === 200));
    await waitFor(async () => (await redis.client.get("chat_quota:aliyun-user1")) === String(100000 - 50 * CHARGE), 3000);
  } finally {
    await solo.close();
  }
});

test("a streamed chat split into tiny chunks is charged exactly; an upstream reset before its answer began (Envoy's 503) charges nothing", async () => {
  const tiny = await startUpstream({ completionTokens: 12, chunkSize: 3 });
  const cut = await startUpstream({ completionTokens: 12, resetAfterBytes: 200, chunkSize: 50 });
  const make = (url: string) => quotaGateway(url, QUOTA, { splitEvery: 1 });
  const split = await make(tiny.url);
  const broken = await make(cut.url);
  try {
    await redis.client.set("chat_quota:aliyun-user1", 1000);
    const body = JSON.stringify({ model: "qwen-max", stream: true, messages: MESSAGES });
    const streamed = await request(`${split.url}/v1/chat/completions`, { headers: [["x-api-key", USER1], ["content-type", "application/json"]], body });
    assert.equal(streamed.status, 200);
    assert.match(streamed.body, /data: \[DONE\]/);
    await waitFor(async () => (await redis.client.get("chat_quota:aliyun-user1")) === String(1000 - CHARGE));
    const refused = await request(`${broken.url}/v1/chat/completions`, { headers: [["x-api-key", USER1], ["content-type", "application/json"]], body });
    assert.equal(refused.status, 503, "the upstream reset before its headers reached the gateway");
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await redis.client.get("chat_quota:aliyun-user1"), String(1000 - CHARGE), "nothing charged: no answer was served");
    assert.equal(broken.chain.failed(), false);
    assert.equal(split.chain.failed(), false);
  } finally {
    await split.close();
    await broken.close();
    await tiny.close();
    await cut.close();
  }
});

test("a charge Redis refuses is logged and counted as charge_failure once, never retried", async () => {
  await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
    const host = await createHost({ wasm: pluginWasm("ai-quota"), config: QUOTA, redis: bridge });
    await redis.client.set("chat_quota:aliyun-user1", 100);
    const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["x-mse-consumer", "aliyun-user1"], ["content-type", "application/json"]]), false);
    s.sendRequestBody(JSON.stringify({ model: "qwen-max", messages: MESSAGES }), true);
    await waitFor(() => s.upstream.ended);
    // The quota stops being a number while the answer is on its way: DECRBY fails.
    await redis.client.set("chat_quota:aliyun-user1", "not-a-number");
    s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]);
    s.sendResponseBody(JSON.stringify({ model: "qwen-max", usage: { prompt_tokens: 3, completion_tokens: 12 } }), true);
    const metric = aiMetric({ route: "test-route", cluster: "outbound|80||upstream.static", model: "none", consumer: "aliyun-user1" }, quotaMetric("CHARGE_FAILURE_METRIC"));
    await waitFor(() => host.metric(metric) === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(host.metric(metric), 1, "counted once");
    assert.equal(await redis.client.get("chat_quota:aliyun-user1"), "not-a-number", "not retried or overwritten");
    assert.ok(host.logs(3).some((l) => l.message.startsWith("ai-quota: charge failed: ERR value is not an integer")));
    assert.equal(host.chain.failed(), false);
  });
});

test("a request that ends with trailers waits for the check: then it goes on whole, or gets 403; an admin refresh ending with trailers is answered", async () => {
  await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
    const host = await createHost({ wasm: pluginWasm("ai-quota"), config: QUOTA, redis: bridge });
    const send = (consumer: string, path: string, body: string, type = "application/json") => {
      const s = host.newStream().sendRequestHeaders(GET(path, [["x-mse-consumer", consumer], ["content-type", type]]), false);
      return s.sendRequestBody(body, false).sendRequestTrailers([["x-checksum", "1"]]);
    };
    await redis.client.set("chat_quota:aliyun-user1", 100);
    const streamed = JSON.stringify({ model: "qwen-max", stream: true, messages: MESSAGES });
    const allowed = send("aliyun-user1", "/v1/chat/completions", streamed);
    assert.equal(allowed.upstream.headers, null, "held while the check is out");
    await waitFor(() => allowed.upstream.ended);
    assert.equal(JSON.parse(Buffer.concat(allowed.upstream.chunks).toString()).stream_options?.include_usage, true, "include_usage added from the buffered body");
    assert.deepEqual(allowed.upstream.trailers, [["x-checksum", "1"]]);
    // Read again: assert.equal above narrowed the field to null, and the stream has moved on since.
    const forwarded = allowed.upstream.headers as HeaderList | null;
    assert.equal(forwarded?.some(([k]) => k === "content-length"), false, "no content-length invented for a request framed by trailers");

    const denied = send("aliyun-user2", "/v1/chat/completions", streamed);
    await waitFor(() => denied.downstream.ended);
    assert.equal(denied.downstream.headers?.find(([k]) => k === ":status")?.[1], "403");
    assert.equal(denied.upstream.headers, null, "nothing reached the upstream");

    const refresh = send("aliyun-admin", "/v1/chat/completions/quota/refresh", "consumer=aliyun-user2&quota=7", "application/x-www-form-urlencoded");
    await waitFor(() => refresh.downstream.ended);
    assert.equal(refresh.downstream.headers?.find(([k]) => k === ":status")?.[1], "200");
    assert.equal(await redis.client.get("chat_quota:aliyun-user2"), "7");
    assert.equal(host.chain.failed(), false);
  });
});

test("an admin query that carries a body is answered and never forwarded; a check that cannot be sent, let through, still gets include_usage", async () => {
  await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
    const host = await createHost({ wasm: pluginWasm("ai-quota"), config: QUOTA, redis: bridge });
    await redis.client.set("chat_quota:aliyun-user1", 42);
    const query = host.newStream()
      .sendRequestHeaders(GET("/v1/chat/completions/quota?consumer=aliyun-user1", [["x-mse-consumer", "aliyun-admin"]]), false)
      .sendRequestBody("ignored", true);
    await waitFor(() => query.downstream.ended);
    assert.equal(Buffer.concat(query.downstream.chunks).toString(), '{"consumer":"aliyun-user1","quota":42}');
    assert.equal(query.upstream.headers, null, "the admin API is never forwarded");

    // An unknown Redis cluster: the GET cannot be sent, and failure_mode_deny false lets the chat through.
    const open = await createHost({ wasm: pluginWasm("ai-quota"), config: { ...QUOTA, failure_mode_deny: false, redis: { service_name: "nowhere.static" } }, redis: bridge });
    const chatStream = open.newStream()
      .sendRequestHeaders(GET("/v1/chat/completions", [["x-mse-consumer", "aliyun-user1"], ["content-type", "application/json"]]), false);
    assert.equal(chatStream.upstream.headers, null, "held for the JSON body");
    chatStream.sendRequestBody(JSON.stringify({ model: "qwen-max", stream: true, messages: MESSAGES }), true);
    await waitFor(() => chatStream.upstream.ended);
    const sent = Buffer.concat(chatStream.upstream.chunks);
    assert.equal(JSON.parse(sent.toString()).stream_options?.include_usage, true);
    const forwarded = chatStream.upstream.headers as HeaderList | null;
    assert.equal(forwarded?.find(([k]) => k === "content-length")?.[1], String(sent.length));
  });
});
