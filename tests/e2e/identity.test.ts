/**
 * Identity the AI plugins can trust (issue 20): key-auth authenticates one route only (its
 * README's example), a second route is public, and the AI plugins run on both. A client on the
 * public route sends X-Mse-Consumer itself. With authenticated_consumer_only the AI plugins take
 * the consumer from key-auth's record alone (filter state, which no client writes); without it
 * they read the header, as Higress does. Then the walkthrough's own setup (stack/walkthrough.yaml)
 * with a public route added: the same spoofing gets nowhere.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";
import { loadWalkthrough } from "../../scripts/gen-envoy.ts";

const ADMIN = "admin-key-0001";
const USER1 = "user1-key-0002";
const PUBLIC = "public.test";
const REDIS = { service_name: "local-redis.static", service_port: 80 };
const QUOTA_KEY = "chat_quota:aliyun-user1";
const LIMIT_KEY = "higress-token-ratelimit:default_rule:limit_by_per_consumer:60:x-mse-consumer:aliyun-user1";
const NO_CONSUMER = "Request denied by ai quota check. No Key Authentication information found.";
const CHAT_BODY = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });
const CHARGE = 3 + 12;

const fixture = e2eFixture({ completionTokens: 12 });

/** key-auth's README example: only route aliyun authenticates; ai-quota and a per-consumer limit everywhere. */
function mixedRoutes(authenticatedOnly: boolean) {
  const consumers = [{ name: "aliyun-admin", credential: ADMIN }, { name: "aliyun-user1", credential: USER1 }];
  return [
    { name: "key-auth", config: { keys: ["x-api-key"], in_header: true, global_auth: false, consumers, _rules_: [{ _match_route_: ["aliyun"], allow: ["aliyun-admin", "aliyun-user1"] }] } },
    { name: "ai-quota", config: { admin_consumer: "aliyun-admin", admin_path: "/quota", redis: REDIS, authenticated_consumer_only: authenticatedOnly } },
    {
      name: "ai-token-ratelimit",
      config: { rule_name: "default_rule", rule_items: [{ limit_by_per_consumer: "", limit_keys: [{ key: "*", token_per_minute: 100_000 }] }], redis: REDIS, authenticated_consumer_only: authenticatedOnly },
    },
  ];
}

/** Route `public` for Host public.test (no authentication), route `aliyun` for every other host. */
async function gateway(plugins: Array<{ name: string; config: unknown }>): Promise<Gateway> {
  const g = await startGateway({
    clusters: { llm: { url: fixture.upstream.url }, "outbound|80||local-redis.static": { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [
      { name: "public", domains: [PUBLIC], prefix: "/", cluster: "llm" },
      { name: "aliyun", domains: ["*"], prefix: "/", cluster: "llm" },
    ],
    plugins: plugins.map((p) => ({ name: p.name, wasm: pluginWasm(p.name), config: p.config })),
  });
  return fixture.track(g);
}

const onPublic = (headers: Array<[string, string]>): Array<[string, string]> => [["host", PUBLIC], ...headers];
const query = (g: Gateway, headers: Array<[string, string]>) => request(`${g.url}/v1/chat/completions/quota?consumer=aliyun-user1`, { headers });
const refresh = (g: Gateway, headers: Array<[string, string]>, quota: number) =>
  request(`${g.url}/v1/chat/completions/quota/refresh`, { headers, body: `consumer=aliyun-user1&quota=${quota}` });
const chat = (g: Gateway, headers: Array<[string, string]>) => request(`${g.url}/v1/chat/completions`, { headers: [["content-type", "application/json"], ...headers], body: CHAT_BODY });

/** The spoofing test: a public-route client claiming the admin, then claiming user1; then the real keys on route aliyun. */
async function spoofingGetsNowhere(g: Gateway): Promise<void> {
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const spoofedAdmin = [["x-mse-consumer", "aliyun-admin"]] as Array<[string, string]>;
  // Refused, or (where no AI plugin runs) forwarded to the upstream: never answered by the admin API.
  const read = await query(g, onPublic(spoofedAdmin));
  assert.doesNotMatch(read.body, /"quota":/, "the spoofed admin reads no quota");
  const write = await refresh(g, onPublic(spoofedAdmin), 999_999);
  assert.notEqual(write.body, "refresh quota successful");
  assert.equal(await fixture.redis.client.get(QUOTA_KEY), "1000", "the spoofed admin rewrote no quota");

  // Whatever the public route does with this chat, aliyun-user1 pays nothing for it.
  await chat(g, onPublic([["x-mse-consumer", "aliyun-user1"]]));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(await fixture.redis.client.get(QUOTA_KEY), "1000", "no one is billed as aliyun-user1");
  assert.equal(await fixture.redis.client.get(LIMIT_KEY), null, "aliyun-user1's limit is untouched");

  // The same requests with valid keys on the authenticated route.
  const admin = await query(g, [["x-api-key", ADMIN]]);
  assert.deepEqual([admin.status, admin.body], [200, '{"consumer":"aliyun-user1","quota":1000}']);
  assert.equal((await refresh(g, [["x-api-key", ADMIN]], 500)).body, "refresh quota successful");
  assert.equal((await chat(g, [["x-api-key", USER1]])).status, 200);
  await waitFor(async () => (await fixture.redis.client.get(QUOTA_KEY)) === String(500 - CHARGE));
}

test("authenticated_consumer_only: on the public route a spoofed admin gets 401 and a spoofed consumer is billed nothing; valid keys on the authenticated route still work", async () => {
  const g = await gateway(mixedRoutes(true));
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const spoofedAdmin = await query(g, onPublic([["x-mse-consumer", "aliyun-admin"]]));
  assert.deepEqual([spoofedAdmin.status, spoofedAdmin.body], [401, NO_CONSUMER]);
  const forwarded = fixture.upstream.requests.length;
  const spoofedChat = await chat(g, onPublic([["x-mse-consumer", "aliyun-user1"]]));
  assert.deepEqual([spoofedChat.status, spoofedChat.body], [401, NO_CONSUMER], "ai-quota: no trusted consumer, no chat");
  assert.equal(fixture.upstream.requests.length, forwarded, "not forwarded");
  await spoofingGetsNowhere(g);
  // On route aliyun key-auth replaced the header and recorded the consumer: the limit counted aliyun-user1.
  await waitFor(async () => (await fixture.redis.client.get(LIMIT_KEY)) === String(CHARGE));
});

test("authenticated_consumer_only off (the default, Higress's behaviour): the public route's X-Mse-Consumer is believed", async () => {
  const g = await gateway(mixedRoutes(false));
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const spoofed = await query(g, onPublic([["x-mse-consumer", "aliyun-admin"]]));
  assert.deepEqual([spoofed.status, spoofed.body], [200, '{"consumer":"aliyun-user1","quota":1000}'], "as in Higress: the header is the identity");
  assert.equal((await chat(g, onPublic([["x-mse-consumer", "aliyun-user1"]]))).status, 200);
  await waitFor(async () => (await fixture.redis.client.get(QUOTA_KEY)) === String(1000 - CHARGE));
  assert.equal(await fixture.redis.client.get(LIMIT_KEY), String(CHARGE), "billed and limited as aliyun-user1");
});

test("the walkthrough's setup (stack/walkthrough.yaml) with a public route added: the same spoofing gets nowhere", async () => {
  const walkthrough = loadWalkthrough();
  const keyAuth = walkthrough.plugins.find((p) => p.name === "key-auth")!.config;
  // The walkthrough's consumers and keys, authenticating on route aliyun only (a public route next to it).
  const consumers = (keyAuth.consumers as Array<{ name: string; credential: string }>).map((c) => ({ ...c, credential: c.name === "aliyun-admin" ? ADMIN : c.name === "aliyun-user1" ? USER1 : c.credential }));
  const plugins = walkthrough.plugins.map((p) =>
    p.name === "key-auth" ? { name: p.name, config: { ...keyAuth, consumers, global_auth: false, _rules_: [{ _match_route_: ["aliyun"], allow: consumers.map((c) => c.name) }] } } : p,
  );
  // The walkthrough limits by key header; this test watches user1's per-consumer counter, which must stay empty on the public route.
  await spoofingGetsNowhere(await gateway(plugins));
});
