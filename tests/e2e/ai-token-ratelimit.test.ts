import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startRedis, withBridge, type RedisServer } from "../support/redis.ts";
import { createHost, GET } from "../../host/direct.ts";
import { request } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { waitFor } from "../support/net.ts";
import { aiMetric, ratelimitMetric } from "../support/metric-names.ts";

const REDIS_CLUSTER = "outbound|80||local-redis.static";
const USER1 = "user1-key-0002";
const USER2 = "user2-key-0003";
const MESSAGES = [{ role: "user" as const, content: "Who are you?" }];
const PROMPT = 3;
const COMPLETION = 12;

let upstream: Upstream;
let redis: RedisServer;
const gateways: Gateway[] = [];

before(async () => {
  upstream = await startUpstream({ completionTokens: COMPLETION });
  redis = await startRedis();
});
after(async () => {
  for (const g of gateways) {
    assert.equal(g.chain.failed(), false, "the VM never trapped");
    await g.close();
  }
  await upstream.close();
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
});

const WALKTHROUGH = {
  rule_name: "default_rule",
  rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 5 }] }],
  redis: { service_name: "local-redis.static", service_port: 80 },
};

async function gateway(config: object, withKeyAuth = false, upstreamUrl = upstream.url): Promise<Gateway> {
  const plugins = [];
  if (withKeyAuth) {
    plugins.push({ name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: [{ name: "aliyun-user1", credential: USER1 }, { name: "aliyun-user2", credential: USER2 }] } });
  }
  plugins.push({ name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config });
  const g = await startGateway({
    clusters: { llm: { url: upstreamUrl }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins,
  });
  gateways.push(g);
  return g;
}

async function chat(g: Gateway, key: string, extra: Array<[string, string]> = []) {
  return request(`${g.url}/v1/chat/completions`, {
    headers: [["x-api-key", key], ["content-type", "application/json"], ...extra],
    body: JSON.stringify({ model: "qwen-max", messages: MESSAGES }),
  });
}

const keyOf = (value: string) => `higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:${value}`;

test("the walkthrough: the first chat passes and is charged, the next within the minute gets 429", async () => {
  const g = await gateway(WALKTHROUGH, true);
  const first = await chat(g, USER1);
  assert.equal(first.status, 200);
  await waitFor(async () => (await redis.client.get(keyOf(USER1))) !== null);
  assert.equal(await redis.client.get(keyOf(USER1)), String(PROMPT + COMPLETION));
  const ttl = await redis.client.ttl(keyOf(USER1));
  assert.ok(ttl > 55 && ttl <= 60, `TTL ${ttl}`);
  const second = await chat(g, USER1);
  assert.equal(second.status, 429);
  assert.equal(second.body, "Too many requests");
  assert.equal(second.headers["x-tokenratelimit-reset"], second.headers["retry-after"]);
  assert.ok(Number(second.headers["retry-after"]) > 0);
  assert.equal(await redis.client.get(keyOf(USER1)), String(PROMPT + COMPLETION), "a rejected request is not charged");
  assert.equal((await chat(g, USER2)).status, 200, "each key has its own counter");
  const rejections = g.metrics().find((m) => m.name === aiMetric({ route: "aliyun", cluster: "llm", model: "none", consumer: "aliyun-user1" }, ratelimitMetric("RATE_LIMITED_METRIC")));
  assert.equal(rejections?.value, 1);
});

test("a _rules_ entry with its own redis counts in that Redis, the global config in its own", async () => {
  const premiumRedis = await startRedis();
  try {
    const premiumCluster = "outbound|80||premium-redis.static";
    const premium = { ...WALKTHROUGH, rule_name: "premium_rule", redis: { service_name: "premium-redis.static", service_port: 80 } };
    const g = await startGateway({
      clusters: { llm: { url: upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` }, [premiumCluster]: { redis: `127.0.0.1:${premiumRedis.port}` } },
      routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
      plugins: [{ name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { ...WALKTHROUGH, _rules_: [{ _match_domain_: ["premium.test"], ...premium }] } }],
    });
    gateways.push(g);
    const premiumKey = `higress-token-ratelimit:premium_rule:limit_by_per_header:60:x-api-key:${USER1}`;
    assert.equal((await chat(g, USER1, [["host", "premium.test"]])).status, 200);
    await waitFor(async () => (await premiumRedis.client.get(premiumKey)) !== null);
    assert.equal(await premiumRedis.client.get(premiumKey), String(PROMPT + COMPLETION));
    assert.deepEqual(await redis.client.keys("higress-token-ratelimit:*"), [], "nothing in the global config's Redis");
    assert.equal((await chat(g, USER1)).status, 200);
    await waitFor(async () => (await redis.client.get(keyOf(USER1))) !== null);
    assert.equal(await redis.client.get(keyOf(USER1)), String(PROMPT + COMPLETION));
    assert.deepEqual(await premiumRedis.client.keys("higress-token-ratelimit:*"), [premiumKey], "nothing more in the rule's Redis");
    assert.equal((await chat(g, USER1, [["host", "premium.test"]])).status, 429, "the rule's counter, in its own Redis, is the one checked");
  } finally {
    await premiumRedis.stop();
  }
});

test("a counter written by Higress is honoured: at the threshold passes, above it rejects (R1)", async () => {
  const g = await gateway(WALKTHROUGH);
  await redis.client.command("SET", keyOf("higress-written"), 5, "EX", 60);
  assert.equal((await chat(g, "higress-written")).status, 200, "current == threshold still passes");
  await redis.client.command("SET", keyOf("over"), 6, "EX", 60);
  assert.equal((await chat(g, "over")).status, 429);
});

test("every token served is recorded, also past the threshold (R1 amended)", async () => {
  // Two chats pass the check at the threshold before either is charged; Higress's charge drops the second.
  const slow = await startUpstream({ completionTokens: COMPLETION, chunkSize: 16, chunkDelayMs: 20 });
  try {
    const g = await gateway(WALKTHROUGH, false, slow.url);
    await redis.client.command("SET", keyOf("burst"), 5, "EX", 60);
    const answers = await Promise.all([chat(g, "burst"), chat(g, "burst")]);
    assert.deepEqual(answers.map((a) => a.status), [200, 200]);
    await waitFor(async () => (await redis.client.get(keyOf("burst"))) === String(5 + 2 * (PROMPT + COMPLETION)));
    assert.equal((await chat(g, "burst")).status, 429);
  } finally {
    await slow.close();
  }
});

test("a stream without stream_options is charged (A1)", async () => {
  const g = await gateway(WALKTHROUGH);
  const client = new OpenAI({ apiKey: "sk", baseURL: `${g.url}/v1`, defaultHeaders: { "x-api-key": "streamer" } });
  const stream = await client.chat.completions.create({ model: "qwen-max", messages: MESSAGES, stream: true });
  for await (const _ of stream) void _;
  await waitFor(async () => (await redis.client.get(keyOf("streamer"))) !== null);
  assert.equal(await redis.client.get(keyOf("streamer")), String(PROMPT + COMPLETION));
});

test("no matching rule item means no Redis traffic and no counter", async () => {
  const g = await gateway({ ...WALKTHROUGH, rule_items: [{ limit_by_header: "x-tenant", limit_keys: [{ key: "gold", token_per_minute: 5 }] }] });
  assert.equal((await chat(g, "k", [["x-tenant", "silver"]])).status, 200);
  assert.deepEqual(await redis.client.keys("higress-token-ratelimit:*"), []);
});

test("several windows at once each get a counter; any exhausted window rejects (R2)", async () => {
  const g = await gateway({ ...WALKTHROUGH, rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1000, token_per_hour: 20 }] }] });
  assert.equal((await chat(g, "multi")).status, 200);
  await waitFor(async () => (await redis.client.keys("higress-token-ratelimit:*")).length === 2);
  assert.deepEqual(await redis.client.keys("higress-token-ratelimit:*"), [
    "higress-token-ratelimit:default_rule:limit_by_per_header:3600:x-api-key:multi",
    "higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:multi",
  ]);
  assert.equal((await chat(g, "multi")).status, 200);
  await waitFor(async () => (await redis.client.get("higress-token-ratelimit:default_rule:limit_by_per_header:3600:x-api-key:multi")) === "30");
  assert.equal((await chat(g, "multi")).status, 429, "the hour window (30 > 20) rejects though the minute one has room");
});

test("global_threshold shares one counter across callers", async () => {
  const g = await gateway({ rule_name: "shared", global_threshold: { token_per_minute: 10 }, redis: WALKTHROUGH.redis });
  assert.equal((await chat(g, "a")).status, 200);
  await waitFor(async () => (await redis.client.get("higress-token-ratelimit:shared:global_threshold:60")) === "15");
  assert.equal((await chat(g, "b")).status, 429);
});

test("Redis down: fail open by default, 503 with failure_mode_deny, never a hang (R4)", async () => {
  const open = await gateway(WALKTHROUGH);
  const deny = await gateway({ ...WALKTHROUGH, failure_mode_deny: true });
  await redis.kill();
  try {
    const started = Date.now();
    assert.equal((await chat(open, "k")).status, 200);
    const denied = await chat(deny, "k");
    assert.equal(denied.status, 503);
    assert.equal(denied.body, "ai-token-ratelimit: the rate limit store is unavailable");
    assert.ok(Date.now() - started < 3000);
  } finally {
    await redis.restart();
  }
});

test("a check the script cannot answer (a counter key of the wrong type): fail open by default, 503 with failure_mode_deny", async () => {
  const open = await gateway(WALKTHROUGH);
  const deny = await gateway({ ...WALKTHROUGH, failure_mode_deny: true });
  await redis.client.command("HSET", keyOf("k"), "field", "1");
  assert.equal((await chat(open, "k")).status, 200);
  const denied = await chat(deny, "k");
  assert.equal(denied.status, 503);
  assert.equal(denied.body, "ai-token-ratelimit: the rate limit store is unavailable");
  assert.equal(await redis.client.command("TYPE", keyOf("k")), "hash");
});

test("a bad configuration is rejected with Higress's message naming the field", async () => {
  await assert.rejects(gateway({ rule_items: WALKTHROUGH.rule_items, redis: WALKTHROUGH.redis }), /missing rule_name in config/);
  await assert.rejects(gateway({ ...WALKTHROUGH, rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "abc", token_per_minute: 5 }] }] }), /the 'limit_by_per_header' restriction must start with 'regexp:' or be exactly '\*'/);
  await assert.rejects(gateway({ rule_name: "r", rule_items: WALKTHROUGH.rule_items }), /missing redis in config/);
});

/** [limit type config, request path, request headers, the Redis key Higress would write] */
const KEY_CASES: Array<[object, string, Array<[string, string]>, string]> = [
  [{ limit_by_header: "x-tenant", limit_keys: [{ key: "gold", token_per_minute: 100 }] }, "/v1/chat/completions", [["x-tenant", "gold"]], "higress-token-ratelimit:default_rule:limit_by_header:60:x-tenant:gold"],
  [{ limit_by_param: "apikey", limit_keys: [{ key: "123456", token_per_minute: 100 }] }, "/v1/chat/completions?apikey=123456", [], "higress-token-ratelimit:default_rule:limit_by_param:60:apikey:123456"],
  [{ limit_by_per_param: "apikey", limit_keys: [{ key: "regexp:^a.*z$", token_per_hour: 100 }] }, "/v1/chat/completions?apikey=abcz", [], "higress-token-ratelimit:default_rule:limit_by_per_param:3600:apikey:abcz"],
  [{ limit_by_cookie: "uid", limit_keys: [{ key: "u1", token_per_minute: 100 }] }, "/v1/chat/completions", [["cookie", "broken; uid=u1=x; a=b"]], "higress-token-ratelimit:default_rule:limit_by_cookie:60:uid:u1"],
  [{ limit_by_per_cookie: "uid", limit_keys: [{ key: "*", token_per_day: 100 }] }, "/v1/chat/completions", [["cookie", "uid=anyone"]], "higress-token-ratelimit:default_rule:limit_by_per_cookie:86400:uid:anyone"],
  [{ limit_by_per_consumer: "", limit_keys: [{ key: "*", token_per_second: 100 }] }, "/v1/chat/completions", [["x-mse-consumer", "c1"]], "higress-token-ratelimit:default_rule:limit_by_per_consumer:1:x-mse-consumer:c1"],
  [{ limit_by_per_ip: "from-header-x-forwarded-for", limit_keys: [{ key: "10.0.0.0/8", token_per_minute: 100 }] }, "/v1/chat/completions", [["x-forwarded-for", " 10.1.2.3, 1.1.1.1"]], "higress-token-ratelimit:default_rule:limit_by_per_ip:60:from-header-x-forwarded-for:10.1.2.3"],
  [{ limit_by_per_ip: "from-remote-addr", limit_keys: [{ key: "127.0.0.0/8", token_per_minute: 100 }] }, "/v1/chat/completions", [], "higress-token-ratelimit:default_rule:limit_by_per_ip:60:from-remote-addr:127.0.0.1"],
];

for (const [item, path, headers, key] of KEY_CASES) {
  test(`writes Higress's key ${key}`, async () => {
    const g = await gateway({ ...WALKTHROUGH, rule_items: [item] });
    const res = await request(`${g.url}${path}`, { headers: [["content-type", "application/json"], ...headers], body: JSON.stringify({ model: "m", messages: MESSAGES }) });
    assert.equal(res.status, 200);
    await waitFor(async () => (await redis.client.keys("higress-token-ratelimit:*")).length > 0);
    assert.deepEqual(await redis.client.keys("higress-token-ratelimit:*"), [key]);
    assert.equal(await redis.client.get(key), String(PROMPT + COMPLETION));
  });
}

test("rule_items and limit_keys are tried in order; the first hit wins", async () => {
  const g = await gateway({
    ...WALKTHROUGH,
    rule_items: [
      { limit_by_header: "x-tier", limit_keys: [{ key: "free", token_per_minute: 10 }] },
      { limit_by_per_header: "x-api-key", limit_keys: [{ key: "regexp:^vip-", token_per_minute: 1000 }, { key: "*", token_per_minute: 10 }] },
    ],
  });
  await chat(g, "vip-1", [["x-tier", "paid"]]);
  await chat(g, "k2", [["x-tier", "free"]]);
  await waitFor(async () => (await redis.client.keys("higress-token-ratelimit:*")).length === 2);
  assert.deepEqual(await redis.client.keys("higress-token-ratelimit:*"), [
    "higress-token-ratelimit:default_rule:limit_by_header:60:x-tier:free",
    "higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:vip-1",
  ]);
});

test("50 concurrent requests on one key: the counter equals the usage of the charged requests", async () => {
  const g = await gateway({ ...WALKTHROUGH, rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1_000_000 }] }] });
  const results = await Promise.all(Array.from({ length: 50 }, () => chat(g, "burst")));
  assert.ok(results.every((r) => r.status === 200));
  await waitFor(async () => (await redis.client.get(keyOf("burst"))) === String(50 * (PROMPT + COMPLETION)), 3000);
});

test("Redis slow past the timeout or refusing auth: fail open by default, 503 with failure_mode_deny", async () => {
  const open = await gateway(WALKTHROUGH);
  const deny = await gateway({ ...WALKTHROUGH, failure_mode_deny: true });
  await chat(open, "warm");
  const paused = redis.pause(1600);
  const started = Date.now();
  const [a, b] = await Promise.all([chat(open, "slow"), chat(deny, "slow")]);
  assert.deepEqual([a.status, b.status], [200, 503]);
  assert.ok(Date.now() - started < 1500, "answered by the 1000 ms timeout");
  await paused;

  const secured = await startRedis({ password: "right" });
  try {
    const g = await startGateway({
      clusters: { llm: { url: upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${secured.port}` } },
      routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
      plugins: [{ name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { ...WALKTHROUGH, failure_mode_deny: true, redis: { ...WALKTHROUGH.redis, password: "wrong" } } }],
    });
    try {
      assert.equal((await chat(g, "k")).status, 503);
      assert.ok(!g.logs().some((l) => l.message.includes("wrong")), "the password never reaches a log line");
    } finally {
      await g.close();
    }
  } finally {
    await secured.stop();
  }
});

test("show_limit_quota_header adds the limit headers and the IETF RateLimit fields for the tightest window (R3)", async () => {
  const g = await gateway({ ...WALKTHROUGH, show_limit_quota_header: true, rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 100, token_per_hour: 40 }] }] });
  const first = await chat(g, "h");
  assert.equal(first.headers["x-tokenratelimit-limit"], "40");
  assert.equal(first.headers["x-tokenratelimit-remaining"], "40");
  assert.equal(first.headers["ratelimit-policy"], '"default_rule";q=100;w=60, "default_rule";q=40;w=3600');
  assert.equal(first.headers["ratelimit"], '"default_rule";r=40;t=3600');
  await waitFor(async () => (await redis.client.get("higress-token-ratelimit:default_rule:limit_by_per_header:3600:x-api-key:h")) === "15");
  const second = await chat(g, "h");
  assert.equal(second.headers["x-tokenratelimit-remaining"], "25");
  assert.match(String(second.headers["ratelimit"]), /^"default_rule";r=25;t=3[0-9]{3}$/);
  const plain = await gateway(WALKTHROUGH);
  assert.equal((await chat(plain, "p")).headers["ratelimit"], undefined, "off by default");
});

test("a charge Redis refuses after the response ended is logged and counted as token_ratelimit_charge_failure once", async () => {
  const g = await gateway(WALKTHROUGH, true);
  // Not a number: the check reads it as 0 and passes, the charge's INCRBY fails.
  await redis.client.set("higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:" + USER1, "not-a-number");
  assert.equal((await chat(g, USER1)).status, 200);
  const metric = aiMetric({ route: "aliyun", cluster: "llm", model: "none", consumer: "aliyun-user1" }, ratelimitMetric("CHARGE_FAILURE_METRIC"));
  await waitFor(() => g.metrics().some((m) => m.name === metric));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(g.metrics().find((m) => m.name === metric)?.value, 1);
  assert.ok(g.logs().some((l) => l.message.startsWith("ai-token-ratelimit: charge failed: ") && l.message.includes("not an integer")), "Redis's own error text");
  assert.equal(await redis.client.get("higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:" + USER1), "not-a-number");
});

test("a request that ends with trailers waits for the check: then it goes on whole, or gets 429", async () => {
  await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
    const host = await createHost({ wasm: pluginWasm("ai-token-ratelimit"), config: WALKTHROUGH, redis: bridge });
    const send = (key: string) =>
      host.newStream()
        .sendRequestHeaders(GET("/v1/chat/completions", [["x-api-key", key], ["content-type", "application/json"]]), false)
        .sendRequestBody(JSON.stringify({ model: "qwen-max", stream: true, messages: MESSAGES }), false)
        .sendRequestTrailers([["x-checksum", "1"]]);
    const allowed = send("fresh");
    assert.equal(allowed.upstream.headers, null, "held while the check is out");
    await waitFor(() => allowed.upstream.ended);
    assert.equal(JSON.parse(Buffer.concat(allowed.upstream.chunks).toString()).stream_options?.include_usage, true);
    assert.deepEqual(allowed.upstream.trailers, [["x-checksum", "1"]]);

    await redis.client.set(keyOf("spent"), 6);
    const denied = send("spent");
    await waitFor(() => denied.downstream.ended);
    assert.equal(denied.downstream.headers?.find(([k]) => k === ":status")?.[1], "429");
    assert.equal(denied.upstream.headers, null, "nothing reached the upstream");
  });
});
