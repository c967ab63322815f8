/**
 * Decision A1, issue 15 item 10: the usage-only SSE event that exists only because a plugin added
 * stream_options.include_usage never reaches the client, and is still charged. Through the gateway
 * with key-auth, ai-quota and ai-token-ratelimit in Higress's order, a real redis-server, raw HTTP
 * and the official openai client.
 */
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream, type UpstreamOptions } from "../support/upstream.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";

const USER = "user1-key-0002";
const CONSUMER = "aliyun-user1";
const QUOTA_START = 100_000;
const COMPLETION = 12;
const ANSWER = "I am a test model, answering from the loopback upstream.";
const MESSAGES = [{ role: "user" as const, content: "Who are you?" }];
const PROMPT = 3;
const CHARGE = PROMPT + COMPLETION;
const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80, timeout: 2000 };
const QUOTA_KEY = `chat_quota:${CONSUMER}`;
const LIMIT_KEY = `higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:${USER}`;

let redis: RedisServer;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});
beforeEach(async () => {
  while (closers.length > 0) await closers.pop()!();
  await redis.flush();
  await redis.client.set(QUOTA_KEY, QUOTA_START);
});
after(async () => {
  while (closers.length > 0) await closers.pop()!();
});

interface Route {
  gateway: Gateway;
  upstream: Upstream;
}

/** key-auth, ai-quota, ai-token-ratelimit (Higress's order) in front of an upstream with `options`. */
async function route(options: { upstream?: UpstreamOptions; split?: number; quotaInject?: boolean; rateLimitInject?: boolean } = {}): Promise<Route> {
  const upstream = await startUpstream({ completionTokens: COMPLETION, ...options.upstream });
  const gateway = await startGateway({
    clusters: { llm: { url: upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: [{ name: CONSUMER, credential: USER }] } },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { redis_key_prefix: "chat_quota:", admin_consumer: "aliyun-admin", admin_path: "/quota", redis: REDIS, ...(options.quotaInject === false ? { inject_stream_usage: false } : {}) } },
      {
        name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: {
          rule_name: "default_rule", redis: REDIS, rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1_000_000 }] }],
          ...(options.rateLimitInject === false ? { inject_stream_usage: false } : {}),
        },
      },
    ],
    ...(options.split ? { split_response_body: { every: options.split } } : {}),
  });
  closers.push(async () => {
    assert.equal(gateway.chain.failed(), false, "no VM trapped");
    await gateway.close();
    await upstream.close();
  });
  return { gateway, upstream };
}

/** Both plugins charged this one chat exactly. */
async function assertCharged(what: string): Promise<void> {
  await waitFor(async () => (await redis.client.get(QUOTA_KEY)) !== String(QUOTA_START) && (await redis.client.get(LIMIT_KEY)) !== null);
  assert.equal(await redis.client.get(QUOTA_KEY), String(QUOTA_START - CHARGE), `${what}: ai-quota charged`);
  assert.equal(await redis.client.get(LIMIT_KEY), String(CHARGE), `${what}: ai-token-ratelimit charged`);
}

/** The JSON of every data event of an SSE body, any line end; "[DONE]" as a string. */
function dataEvents(body: string): unknown[] {
  return body.split(/\r\n\r\n|\n\n|\r\r/).filter((e) => e.length > 0).flatMap((event) => {
    const data = event.split(/\r\n|\n|\r/).filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart());
    if (data.length === 0) return [];
    return [data[0] === "[DONE]" ? "[DONE]" : JSON.parse(data.join("\n"))];
  });
}

function streamChat(r: Route, body: object) {
  return request(`${r.gateway.url}/v1/chat/completions`, { headers: [["x-api-key", USER], ["content-type", "application/json"]], body: JSON.stringify({ model: "qwen-max", stream: true, messages: MESSAGES, ...body }) });
}

/** What a client that reads choices[0] of every chunk sees: the whole answer, no chunk without a choice, then [DONE]. */
function assertNoUsageChunk(body: string, what: string): void {
  const events = dataEvents(body);
  assert.equal(events.at(-1), "[DONE]", `${what}: ends with [DONE]`);
  const chunks = events.slice(0, -1) as Array<{ choices: Array<{ delta: { content?: string } }>; usage?: unknown }>;
  for (const chunk of chunks) assert.ok(chunk.choices.length > 0, `${what}: a chunk with empty choices reached the client: ${JSON.stringify(chunk)}`);
  assert.equal(chunks.map((c) => c.choices[0].delta.content ?? "").join(""), ANSWER, `${what}: every content delta arrived`);
  assert.equal(chunks.filter((c) => c.usage).length, 0, `${what}: no usage the client did not ask for`);
}

/** A fresh quota and no rate-limit counter, for the next chat of one test. */
async function resetCounters(): Promise<void> {
  await redis.flush();
  await redis.client.set(QUOTA_KEY, QUOTA_START);
}

/** What the upstream sends for the request it last received, asked again directly. */
async function upstreamAnswer(r: Route): Promise<string> {
  return (await request(`${r.upstream.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body: r.upstream.requests.at(-1)!.body })).body;
}

test("raw HTTP: a stream that asked no usage, or include_usage false, gets no usage-only chunk whatever the chunking, and both plugins charge it; one that asked gets its usage", async () => {
  for (const split of [0, 1, 7, 64, 1000]) {
    await resetCounters();
    const r = await route({ split });
    const answer = await streamChat(r, {});
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(r.upstream.requests.at(-1)!.body).stream_options?.include_usage, true, "include_usage reached the upstream");
    assertNoUsageChunk(answer.body, `split ${split}`);
    await assertCharged(`split ${split}`);
    await closers.pop()!();
  }

  await resetCounters();
  const overridden = await route({ split: 5 });
  const answer = await streamChat(overridden, { stream_options: { include_usage: false } });
  assert.equal(JSON.parse(overridden.upstream.requests.at(-1)!.body).stream_options.include_usage, true, "false is overridden upstream");
  assertNoUsageChunk(answer.body, "include_usage false");
  await assertCharged("include_usage false");
  await closers.pop()!();

  await resetCounters();
  const asked = await route({ split: 3 });
  const withUsage = await streamChat(asked, { stream_options: { include_usage: true } });
  assert.equal(withUsage.body, await upstreamAnswer(asked), "the client that asked gets the stream as the upstream sent it");
  const last = dataEvents(withUsage.body).at(-2) as { choices: unknown[]; usage: { total_tokens: number } };
  assert.deepEqual([last.choices, last.usage.total_tokens], [[], CHARGE], "its usage-only chunk");
  await assertCharged("client asked");
});

test("only the usage-only event goes: CRLF and CR line ends and comments one byte per chunk, and usage beside non-empty choices (DashScope's compatible mode) pass as sent", async () => {
  for (const sseLineEnd of ["\r\n", "\r"] as const) {
    await resetCounters();
    const r = await route({ upstream: { sseLineEnd, sseComments: true }, split: 1 });
    const answer = await streamChat(r, {});
    assertNoUsageChunk(answer.body, JSON.stringify(sseLineEnd));
    assert.equal(answer.body.split(`: keep-alive${sseLineEnd}${sseLineEnd}`).length - 1, 2, "both comments arrived");
    assert.ok(answer.body.endsWith(`data: [DONE]${sseLineEnd}${sseLineEnd}`), "the stream ends as the upstream ended it");
    await assertCharged(JSON.stringify(sseLineEnd));
    await closers.pop()!();
  }

  await resetCounters();
  const dashscope = await route({ upstream: { usageWithChoices: true }, split: 9 });
  const answer = await streamChat(dashscope, {});
  assert.equal(answer.body, await upstreamAnswer(dashscope), "byte for byte what the upstream sent");
  await assertCharged("usage with choices");
});

test("the openai client, stream: true without stream_options: every chunk has a choice, the whole answer arrives, both plugins charge; with include_usage it gets its usage chunk", async () => {
  for (const split of [0, 4]) {
    await resetCounters();
    const r = await route({ split });
    const client = new OpenAI({ apiKey: "sk-test", baseURL: `${r.gateway.url}/v1`, defaultHeaders: { "x-api-key": USER } });
    const stream = await client.chat.completions.create({ model: "qwen-max", messages: MESSAGES, stream: true });
    let text = "";
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.ok(chunk.choices.length > 0, `a chunk without choices reached the client: ${JSON.stringify(chunk)}`);
      assert.equal(chunk.usage ?? null, null);
      text += chunk.choices[0].delta.content ?? "";
    }
    assert.equal(text, ANSWER);
    assert.equal(chunks, ANSWER.split(" ").length + 2, "the role chunk, one per word, the finish chunk");
    await assertCharged(`openai client, split ${split}`);
    await closers.pop()!();
  }

  await resetCounters();
  const r = await route({ split: 4 });
  const client = new OpenAI({ apiKey: "sk-test", baseURL: `${r.gateway.url}/v1`, defaultHeaders: { "x-api-key": USER } });
  const stream = await client.chat.completions.create({ model: "qwen-max", messages: MESSAGES, stream: true, stream_options: { include_usage: true } });
  let last: OpenAI.Chat.Completions.ChatCompletionChunk | null = null;
  for await (const chunk of stream) last = chunk;
  assert.deepEqual([last?.choices, last?.usage?.total_tokens], [[], CHARGE], "the usage chunk it asked for");
  await assertCharged("openai client asked");
});

test("only the inner plugin injects (ai-quota inject_stream_usage false): the outer one still reads the usage, then removes it; with neither injecting nothing is removed", async () => {
  const inner = await route({ quotaInject: false, split: 6 });
  const answer = await streamChat(inner, {});
  assert.equal(JSON.parse(inner.upstream.requests.at(-1)!.body).stream_options?.include_usage, true, "ai-token-ratelimit added it");
  assertNoUsageChunk(answer.body, "inner injects");
  await assertCharged("inner injects");
  await closers.pop()!();

  const neither = await route({ quotaInject: false, rateLimitInject: false });
  const plain = await streamChat(neither, {});
  assert.equal(JSON.parse(neither.upstream.requests.at(-1)!.body).stream_options, undefined);
  assert.equal(plain.body, await upstreamAnswer(neither));
});
