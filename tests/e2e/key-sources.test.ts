/**
 * Where key-auth reads keys (decision K2, amended): only from a source whose flag is `true`. The
 * walkthrough's config says `in_header: true` and rate-limits the header, so a key in the query
 * must neither authenticate nor get past the limit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";
import { loadWalkthrough } from "../../scripts/gen-envoy.ts";
import { NO_KEY } from "../support/key-auth.ts";

const walkthrough = loadWalkthrough();
const configOf = (name: string) => walkthrough.plugins.find((p) => p.name === name)!.config;
const credentialOf = (name: string) => (configOf("key-auth").consumers as Array<{ name: string; credential: string }>).find((c) => c.name === name)!.credential;
const ADMIN = credentialOf("aliyun-admin");
const USER1 = credentialOf("aliyun-user1");
const CHAT_BODY = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });

const fixture = e2eFixture({ completionTokens: 12 });

/** The walkthrough's gateway (stack/walkthrough.yaml, as `npm start` runs it); `keyAuth` changes key-auth's config, `rateLimit` replaces ai-token-ratelimit's. */
async function walkthroughGateway(keyAuth: (config: Record<string, unknown>) => Record<string, unknown> = (c) => c, rateLimit?: Record<string, unknown>): Promise<Gateway> {
  const g = await startGateway({
    clusters: { llm: { url: fixture.upstream.url }, [`outbound|80||${walkthrough.redis_service}`]: { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [{ name: walkthrough.route, domains: ["*"], prefix: "/", cluster: "llm" }],
    plugins: walkthrough.plugins.map((p) => ({
      name: p.name, wasm: pluginWasm(p.name),
      config: p.name === "key-auth" ? keyAuth(p.config) : p.name === "ai-token-ratelimit" && rateLimit ? rateLimit : p.config,
    })),
  });
  return fixture.track(g);
}

const chat = (g: Gateway, path: string, headers: Array<[string, string]> = []) =>
  request(`${g.url}${path}`, { headers: [["content-type", "application/json"], ...headers], body: CHAT_BODY });

async function refresh(g: Gateway, consumer: string, quota: number): Promise<void> {
  const res = await request(`${g.url}/v1/chat/completions/quota/refresh`, { headers: [["x-api-key", ADMIN]], body: `consumer=${consumer}&quota=${quota}` });
  assert.equal(res.body, "refresh quota successful");
}

test("walkthrough (in_header: true only): ?x-api-key=<valid key> is 401, not forwarded, and no way past the rate limit (K2)", async () => {
  const g = await walkthroughGateway();
  await refresh(g, "aliyun-user1", 1000);
  const before = fixture.upstream.requests.length;
  const query = await chat(g, `/v1/chat/completions?x-api-key=${USER1}`);
  assert.deepEqual([query.status, query.body], [401, NO_KEY]);
  assert.equal(fixture.upstream.requests.length, before, "not forwarded");

  assert.equal((await chat(g, "/v1/chat/completions", [["x-api-key", USER1]])).status, 200);
  const counter = `higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:${USER1}`;
  await waitFor(async () => (await fixture.redis.client.get(counter)) !== null);
  assert.equal((await chat(g, "/v1/chat/completions", [["x-api-key", USER1]])).status, 429, "5 tokens per minute are spent");
  const escape = await chat(g, `/v1/chat/completions?x-api-key=${USER1}`);
  assert.deepEqual([escape.status, escape.body], [401, NO_KEY], "the query key does not get around the header's limit");
  assert.equal(fixture.upstream.requests.length, before + 1, "only the first chat reached the upstream");
});

test("hide_credentials removes the header limit_by_per_header counts, so that limit stops applying; limit_by_per_consumer still holds (README)", async () => {
  const hide = (c: Record<string, unknown>) => ({ ...c, hide_credentials: true });
  const perHeader = await walkthroughGateway(hide);
  await refresh(perHeader, "aliyun-user1", 1000);
  for (let i = 0; i < 3; i++) assert.equal((await chat(perHeader, "/v1/chat/completions", [["x-api-key", USER1]])).status, 200, `chat ${i}: nothing counted`);
  assert.deepEqual(await fixture.redis.client.keys("higress-token-ratelimit:*"), []);

  // The walkthrough attaches the rate limit to its route (a `_rules_` entry): change that entry's items.
  const [onRoute] = configOf("ai-token-ratelimit")._rules_ as Array<Record<string, unknown>>;
  const perConsumer = { _rules_: [{ ...onRoute, rule_items: [{ limit_by_per_consumer: "", limit_keys: [{ key: "*", token_per_minute: 5 }] }] }] };
  const safe = await walkthroughGateway(hide, perConsumer);
  assert.equal((await chat(safe, "/v1/chat/completions", [["x-api-key", USER1]])).status, 200);
  const counter = "higress-token-ratelimit:default_rule:limit_by_per_consumer:60:x-mse-consumer:aliyun-user1";
  await waitFor(async () => (await fixture.redis.client.get(counter)) !== null);
  assert.equal((await chat(safe, "/v1/chat/completions", [["x-api-key", USER1]])).status, 429);
});
