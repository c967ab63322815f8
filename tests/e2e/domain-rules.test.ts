/**
 * `_match_domain_` rules in the AI plugins (decision G9): a Host in any case, with a port or the
 * trailing dot of an absolute name, gets the domain's config, never the looser global one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";

const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80 };
const MESSAGES = [{ role: "user", content: "Who are you?" }];
const CHARGE = 3 + 12;
/** The spellings of `api.example.com` a client can send; Envoy routes them all to the same host. */
const SPELLINGS = ["API.EXAMPLE.COM", "Api.Example.Com:443", "api.example.com:8080", "api.example.com."];

const fixture = e2eFixture({ completionTokens: 12 });

async function gateway(name: string, config: object): Promise<Gateway> {
  const g = await startGateway({
    clusters: { llm: { url: fixture.upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [{ name: "aliyun", domains: ["*"], prefix: "/", cluster: "llm" }],
    plugins: [{ name, wasm: pluginWasm(name), config }],
  });
  return fixture.track(g);
}

const chat = (g: Gateway, host: string, headers: Array<[string, string]> = []) =>
  request(`${g.url}/v1/chat/completions`, {
    headers: [["host", host], ["content-type", "application/json"], ...headers],
    body: JSON.stringify({ model: "qwen-max", messages: MESSAGES }),
  });

test("ai-token-ratelimit: a domain rule's tight limit holds for every spelling of its host, the global one is untouched", async () => {
  const g = await gateway("ai-token-ratelimit", {
    rule_name: "open", global_threshold: { token_per_minute: 1000000 }, redis: REDIS,
    _rules_: [{ _match_domain_: ["api.example.com"], rule_name: "tight", global_threshold: { token_per_minute: 5 }, redis: REDIS }],
  });
  const tight = "higress-token-ratelimit:tight:global_threshold:60";
  const open = "higress-token-ratelimit:open:global_threshold:60";
  for (const host of SPELLINGS) {
    await fixture.redis.flush();
    const first = await chat(g, host);
    assert.equal(first.status, 200, host);
    await waitFor(async () => (await fixture.redis.client.get(tight)) === String(CHARGE));
    const second = await chat(g, host);
    assert.equal(second.status, 429, `${host}: the domain's 5 tokens per minute are spent`);
    assert.equal(second.body, "Too many requests");
    assert.equal(await fixture.redis.client.get(open), null, `${host} never counted against the global config`);
  }
  // Another host is the global config's.
  assert.equal((await chat(g, "other.example.com")).status, 200);
  await waitFor(async () => (await fixture.redis.client.get(open)) === String(CHARGE));
});

test("ai-quota: a domain rule checks every spelling of its host (no global config: other hosts pass untouched)", async () => {
  const g = await gateway("ai-quota", {
    _rules_: [{ _match_domain_: ["*.Example.COM"], admin_consumer: "admin", redis: REDIS }],
  });
  for (const host of SPELLINGS) {
    const res = await chat(g, host);
    assert.equal(res.status, 401, `${host}: no consumer, checked by the rule`);
    const none = await chat(g, host, [["x-mse-consumer", "u1"]]);
    assert.equal(none.status, 403, `${host}: u1 has no quota`);
    assert.equal(none.body, "Request denied by ai quota check, No quota left");
  }
  await fixture.redis.client.command("SET", "chat_quota:u1", "100");
  assert.equal((await chat(g, "API.Example.Com:443", [["x-mse-consumer", "u1"]])).status, 200);
  await waitFor(async () => (await fixture.redis.client.get("chat_quota:u1")) === String(100 - CHARGE));
  assert.equal((await chat(g, "example.org")).status, 200, "a host no rule names is not the plugin's");
});
