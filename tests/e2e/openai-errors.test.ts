/**
 * Issue 18 item 6: with `openai_errors`, the AI plugins' refusals are OpenAI's error JSON, so the
 * official openai client raises typed errors whose `code` says why; without it, Higress's text.
 * Through the gateway with key-auth, ai-quota and ai-token-ratelimit and a real redis-server.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";
import { request } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";

const fixture = e2eFixture();
const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80, timeout: 2000 };
const CONSUMERS = [{ name: "rich", credential: "rich-key" }, { name: "broke", credential: "broke-key" }, { name: "admin", credential: "admin-key" }];
const CHAT = { model: "qwen-max", messages: [{ role: "user" as const, content: "Who are you?" }] };
// The first chat passes (the counter starts at 0) and is charged more than the limit.
const TOKENS_PER_MINUTE = 5;

async function gateway(openAiErrors: boolean, rejectedMsg?: string): Promise<Gateway> {
  const option = openAiErrors ? { openai_errors: true } : {};
  return fixture.track(await startGateway({
    clusters: { llm: { url: fixture.upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: CONSUMERS } },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "admin", admin_path: "/quota", redis: REDIS, ...option } },
      {
        name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"),
        config: { rule_name: "r", rule_items: [{ limit_by_per_consumer: "", limit_keys: [{ key: "*", token_per_minute: TOKENS_PER_MINUTE }] }], redis: REDIS, ...(rejectedMsg ? { rejected_msg: rejectedMsg } : {}), ...option },
      },
    ],
  }));
}

const client = (g: Gateway, key: string) => new OpenAI({ apiKey: "sk-unused", baseURL: `${g.url}/v1`, maxRetries: 0, defaultHeaders: { "x-api-key": key } });

/** The error the client raised for `call`. */
async function failure(call: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await call;
  } catch (e) {
    assert.ok(e instanceof OpenAI.APIError, String(e));
    return e;
  }
  assert.fail("the call succeeded");
}

test("openai_errors: the openai client gets insufficient_quota for an empty quota and rate_limit_exceeded past the limit, with the plugins' messages", async () => {
  const g = await gateway(true, "Token rate limit exceeded, retry later");
  await fixture.redis.client.set("chat_quota:rich", 1000);
  const quota = await failure(client(g, "broke-key").chat.completions.create(CHAT));
  assert.ok(quota instanceof OpenAI.PermissionDeniedError);
  assert.deepEqual([quota.status, quota.code, quota.type, (quota.error as { message: string }).message], [403, "insufficient_quota", "insufficient_quota", "Request denied by ai quota check, No quota left"]);
  await client(g, "rich-key").chat.completions.create(CHAT);
  const limited = await failure(client(g, "rich-key").chat.completions.create(CHAT));
  assert.ok(limited instanceof OpenAI.RateLimitError);
  assert.deepEqual([limited.status, limited.code, limited.type, (limited.error as { message: string }).message], [429, "rate_limit_exceeded", "tokens", "Token rate limit exceeded, retry later"]);
  assert.ok(Number(limited.headers?.get("retry-after")) > 0, "Retry-After is still sent");
  assert.equal(limited.headers?.get("content-type"), "application/json");
});

test("openai_errors: a request body the plugins cannot read is a 400 invalid_request_error JSON; the admin API keeps Higress's text", async () => {
  const g = await gateway(true);
  await fixture.redis.client.set("chat_quota:rich", 1000);
  const refused = await request(`${g.url}/v1/chat/completions`, { headers: [["x-api-key", "rich-key"], ["content-type", "application/json"]], body: '{"model":"m","stream":"yes","messages":[]}' });
  assert.equal(refused.status, 400);
  assert.equal(refused.headers["content-type"], "application/json");
  const error = JSON.parse(refused.body).error;
  assert.deepEqual([error.type, error.code, error.param], ["invalid_request_error", "invalid_request_body", null]);
  assert.match(error.message, /^Request denied: stream in the request body must be true, false or null\.$/);
  const admin = await request(`${g.url}/v1/chat/completions/quota?consumer=`, { headers: [["x-api-key", "admin-key"]] });
  assert.deepEqual([admin.status, admin.body], [403, "Request denied by ai quota check. consumer can't be empty."]);
  const notAdmin = await request(`${g.url}/v1/chat/completions/quota?consumer=rich`, { headers: [["x-api-key", "rich-key"]] });
  assert.deepEqual([notAdmin.status, notAdmin.body], [403, "Request denied by ai quota check. Unauthorized admin consumer."], "a refusal on the admin API's path stays text");
});

test("without openai_errors (the default) the same refusals are Higress's plain text, and the client's error has no code", async () => {
  const g = await gateway(false);
  const quota = await request(`${g.url}/v1/chat/completions`, { headers: [["x-api-key", "broke-key"], ["content-type", "application/json"]], body: JSON.stringify(CHAT) });
  assert.deepEqual([quota.status, quota.body], [403, "Request denied by ai quota check, No quota left"]);
  assert.notEqual(quota.headers["content-type"], "application/json");
  const typed = await failure(client(g, "broke-key").chat.completions.create(CHAT));
  assert.equal(typed.code, undefined);
});
