/**
 * The cost of `regexp:` keys is bounded (issue 15, item 11): a pattern whose program is too large
 * is refused at configuration, and a request spends at most MATCH_STEPS_PER_REQUEST matching. A
 * value too long to be matched within that budget is refused with 431: treating it as "no match"
 * would let a client escape a limit by sending a huge value.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { aiMetric, ratelimitMetric } from "../support/metric-names.ts";

const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80 };
/** The largest program MAX_STATES allows: 1997 states, each a step per byte on a run of `a`s. */
const WORST = "regexp:(a|b){0,399}c";
/** 12 KB, as in the issue; Node's HTTP server takes 16 KiB of headers. */
const HUGE = "a".repeat(12_000) + "c";
const TOO_LONG = { status: 431, body: "ai-token-ratelimit: a value is too long to match the limit keys" };
const REFUSED_METRIC = aiMetric({ route: "aliyun", cluster: "llm", model: "none", consumer: "none" }, ratelimitMetric("VALUE_TOO_LONG_METRIC"));

const fixture = e2eFixture({ completionTokens: 12 });

async function gateway(ruleItems: object[]): Promise<Gateway> {
  const g = await startGateway({
    clusters: { llm: { url: fixture.upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [{ name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { rule_name: "r", rule_items: ruleItems, redis: REDIS } }],
  });
  return fixture.track(g);
}

async function chat(g: Gateway, headers: Array<[string, string]>, path = "/v1/chat/completions") {
  const started = performance.now();
  const response = await request(`${g.url}${path}`, {
    headers: [["content-type", "application/json"], ...headers],
    body: JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] }),
  });
  return { ...response, ms: performance.now() - started };
}

const metric = (g: Gateway, name: string) => g.metrics().find((m) => m.name === name)?.value;

test("a regexp key over 2000 states is refused at configuration, naming the field; the largest allowed loads", async () => {
  await assert.rejects(
    gateway([{ limit_by_per_header: "x-user", limit_keys: [{ key: "*", token_per_minute: 5 }, { key: "regexp:(a|b){0,500}c", token_per_minute: 5 }] }]),
    /ai-token-ratelimit: rule_items\[0\]\.limit_keys\[1\]\.key regexp compiles to 2502 states, more than 2000/,
  );
  const g = await gateway([{ limit_by_per_header: "x-user", limit_keys: [{ key: WORST, token_per_minute: 5 }] }]);
  assert.equal((await chat(g, [["x-user", "abc"]])).status, 200);
});

test("a value too long to match within the budget gets 431 at once, in a header, a cookie or the query: it never escapes the limit; realistic keys still decide long values", async () => {
  const g = await gateway([
    { limit_by_per_header: "x-user", limit_keys: [{ key: WORST, token_per_minute: 5 }] },
    { limit_by_per_cookie: "session", limit_keys: [{ key: WORST, token_per_minute: 5 }] },
    { limit_by_per_param: "user", limit_keys: [{ key: WORST, token_per_minute: 5 }] },
  ]);
  const forwarded = fixture.upstream.requests.length;
  // Before the bound this header took about a second of wasm and then matched (and so was limited).
  for (const [what, headers, path] of [
    ["header", [["x-user", HUGE]], undefined],
    ["cookie", [["cookie", `other=1; session=${HUGE}`]], undefined],
    ["query", [], `/v1/chat/completions?user=${HUGE}`],
  ] as Array<[string, Array<[string, string]>, string | undefined]>) {
    const refused = await chat(g, headers, path);
    assert.equal(refused.status, TOO_LONG.status, what);
    assert.equal(refused.body, TOO_LONG.body, what);
    assert.ok(refused.ms < 250, `${what}: answered in ${refused.ms.toFixed(1)} ms`);
  }
  assert.equal(metric(g, REFUSED_METRIC), 3);
  assert.equal(fixture.upstream.requests.length, forwarded, "nothing reached the LLM");
  assert.deepEqual(await fixture.redis.client.keys("higress-token-ratelimit:*"), [], "nothing was checked or charged");
  // A short value of the same key is matched and limited as before.
  const first = await chat(g, [["x-user", "abc"]]);
  assert.equal(first.status, 200);
  const key = "higress-token-ratelimit:r:limit_by_per_header:60:x-user:abc";
  await waitFor(async () => (await fixture.redis.client.get(key)) !== null);
  assert.equal((await chat(g, [["x-user", "abc"]])).status, 429);

  // The bound refuses only what it cannot decide: a realistic key decides a long value.
  const realistic = await gateway([{ limit_by_per_header: "x-user", limit_keys: [{ key: "regexp:^user-[a-z0-9]+$", token_per_minute: 5 }] }]);
  const long = "user-" + "a".repeat(12_000);
  assert.equal((await chat(realistic, [["x-user", long]])).status, 200);
  const longKey = `higress-token-ratelimit:r:limit_by_per_header:60:x-user:${long}`;
  await waitFor(async () => (await fixture.redis.client.get(longKey)) !== null);
  assert.equal((await chat(realistic, [["x-user", long]])).status, 429, "the long value has its counter");
  assert.equal((await chat(realistic, [["x-user", "admin-" + "a".repeat(12_000)]])).status, 200, "no key matches: no limit, as configured");
  assert.equal(metric(realistic, REFUSED_METRIC), undefined);
});
