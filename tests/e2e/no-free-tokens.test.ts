/**
 * Nothing served is free (decision A4), through the walkthrough's chain (key-auth, ai-quota,
 * ai-token-ratelimit) with a real redis-server: compressed answers, answers without usage, clients
 * hanging up and upstreams resetting. Each time both AI plugins charge, exactly what the answer
 * reported, or else the documented estimate, counted in its own metric.
 */
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import OpenAI from "openai";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream, type UpstreamOptions, type Encoding } from "../support/upstream.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { quotaMetric, ratelimitMetric } from "../support/metric-names.ts";

const USER1 = "user1-key-0002";
const QUOTA_START = 1000;
const QUOTA_KEY = "chat_quota:aliyun-user1";
const LIMIT_KEY = `higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:${USER1}`;
const PROMPT = 3;
const COMPLETION = 12;
const REDIS = { service_name: "local-redis.static", service_port: 80 };
const MESSAGES = [{ role: "user" as const, content: "Who are you?" }];
const CHAT_BODY = JSON.stringify({ model: "qwen-max", messages: MESSAGES });
const STREAM_BODY = JSON.stringify({ model: "qwen-max", stream: true, messages: MESSAGES });
/** What ai-quota adds to a stream's body before ai-token-ratelimit, the next filter, reads it (A1). */
const INJECTED = ',"stream_options":{"include_usage":true}';
const BYTES_PER_TOKEN = 4;
const HEADERS: Array<[string, string]> = [["x-api-key", USER1], ["content-type", "application/json"]];

let redis: RedisServer;
const closers: Array<() => Promise<void>> = [];
const gateways: Gateway[] = [];

before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const g of gateways) assert.equal(g.chain.failed(), false, "no VM trapped");
  for (const close of closers.reverse()) await close();
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
  await redis.client.set(QUOTA_KEY, QUOTA_START);
});

async function upstreamWith(options: UpstreamOptions): Promise<Upstream> {
  const upstream = await startUpstream({ completionTokens: COMPLETION, ...options });
  closers.push(() => upstream.close());
  return upstream;
}

/** The walkthrough's chain in front of `upstream`; `usage` adds fields to both AI plugins' configs. */
async function gateway(upstream: Upstream, usage: object = {}): Promise<Gateway> {
  const g = await startGateway({
    clusters: { llm: { url: upstream.url }, "outbound|80||local-redis.static": { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: [{ name: "aliyun-user1", credential: USER1 }] } },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "aliyun-admin", redis: REDIS, ...usage } },
      { name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { rule_name: "default_rule", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 100_000 }] }], redis: REDIS, ...usage } },
    ],
  });
  closers.push(() => g.close());
  gateways.push(g);
  return g;
}

/** What each AI plugin charged: quota spent, rate-limit counter. */
async function charges(): Promise<{ quota: number; limit: number }> {
  return { quota: QUOTA_START - Number(await redis.client.get(QUOTA_KEY)), limit: Number((await redis.client.get(LIMIT_KEY)) ?? 0) };
}

async function expectCharges(expected: { quota: number; limit: number }, message?: string): Promise<void> {
  await waitFor(async () => {
    const now = await charges();
    return now.quota === expected.quota && now.limit === expected.limit;
  }).catch(async () => assert.deepEqual(await charges(), expected, message));
}

/** Both plugins' estimate metrics, [ai-quota, ai-token-ratelimit]. */
function estimated(g: Gateway): number[] {
  const value = (suffix: string) => g.metrics().filter((m) => m.name.endsWith(suffix)).reduce((sum, m) => sum + m.value, 0);
  return [value(`.metric.${quotaMetric("ESTIMATED_TOKEN_METRIC")}`), value(`.metric.${ratelimitMetric("ESTIMATED_TOKEN_METRIC")}`)];
}

const tokensOf = (bytes: number) => Math.ceil(bytes / BYTES_PER_TOKEN);

/** Posts `body` and hangs up once the answer so far contains `until`; resolves with what had arrived. */
function chatAndHangUp(g: Gateway, body: string, until: string, settleMs = 0): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const req = http.request(`${g.url}/v1/chat/completions`, { method: "POST", headers: Object.fromEntries(HEADERS), agent: false }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const seen = received.includes(until);
        received += chunk;
        if (seen || !received.includes(until)) return;
        setTimeout(() => {
          req.destroy();
          resolve(received);
        }, settleMs);
      });
    });
    req.on("error", () => undefined);
    req.setTimeout(5000, () => reject(new Error(`never saw ${until}`)));
    req.end(body);
  });
}

const ENCODINGS: Encoding[] = ["gzip", "deflate", "br"];

test("the openai client's Accept-Encoding never reaches the upstream: a compressing upstream's answers are charged exactly, streaming and not", async () => {
  const upstream = await upstreamWith({ honourAcceptEncoding: true });
  const g = await gateway(upstream);
  const client = new OpenAI({ apiKey: "sk-test", baseURL: `${g.url}/v1`, defaultHeaders: { "x-api-key": USER1 } });
  const completion = await client.chat.completions.create({ model: "qwen-max", messages: MESSAGES });
  assert.equal(completion.usage?.total_tokens, PROMPT + COMPLETION);
  assert.equal(upstream.requests.at(-1)!.headers["accept-encoding"], undefined, "the request went upstream without Accept-Encoding");
  await expectCharges({ quota: PROMPT + COMPLETION, limit: PROMPT + COMPLETION });
  const stream = await client.chat.completions.create({ model: "qwen-max", messages: MESSAGES, stream: true });
  for await (const _ of stream) void _;
  await expectCharges({ quota: 2 * (PROMPT + COMPLETION), limit: 2 * (PROMPT + COMPLETION) });
  assert.deepEqual(estimated(g), [0, 0], "read, not estimated");
});

for (const encoding of ENCODINGS) {
  test(`a request accepting ${encoding} is answered uncompressed and charged exactly`, async () => {
    const upstream = await upstreamWith({ honourAcceptEncoding: true });
    const g = await gateway(upstream);
    const answer = await request(`${g.url}/v1/chat/completions`, { headers: [...HEADERS, ["accept-encoding", `${encoding}, identity;q=0.5`]], body: CHAT_BODY });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-encoding"], undefined);
    assert.equal(JSON.parse(answer.body).usage.total_tokens, PROMPT + COMPLETION);
    await expectCharges({ quota: PROMPT + COMPLETION, limit: PROMPT + COMPLETION });
  });

  test(`an upstream that answers ${encoding} anyway is charged the estimate from the bytes exchanged`, async () => {
    const upstream = await upstreamWith({ encoding });
    const g = await gateway(upstream);
    const answer = await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: CHAT_BODY });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers["content-encoding"], encoding);
    const estimate = tokensOf(Buffer.byteLength(CHAT_BODY)) + tokensOf(answer.bytes.length);
    await expectCharges({ quota: estimate, limit: estimate });
    assert.deepEqual(estimated(g), [estimate, estimate]);
  });
}

test("an upstream that reports no usage is charged the estimate: body bytes for JSON, one token per event for a stream", async () => {
  const upstream = await upstreamWith({ noUsage: true });
  const g = await gateway(upstream);
  const plain = await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: CHAT_BODY });
  assert.equal(plain.status, 200);
  assert.equal(JSON.parse(plain.body).usage, undefined);
  const plainEstimate = tokensOf(Buffer.byteLength(CHAT_BODY)) + tokensOf(Buffer.byteLength(plain.body));
  await expectCharges({ quota: plainEstimate, limit: plainEstimate });

  const streamed = await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: STREAM_BODY });
  const events = streamed.body.split("\n\n").filter((e) => e.startsWith("data: ")).length;
  assert.ok(events > 5, `${events} events`);
  const quota = plainEstimate + tokensOf(Buffer.byteLength(STREAM_BODY)) + events;
  const limit = plainEstimate + tokensOf(Buffer.byteLength(STREAM_BODY + INJECTED)) + events;
  await expectCharges({ quota, limit });
  assert.deepEqual(estimated(g), [quota, limit]);
});

test("estimate_missing_usage: false charges nothing for an answer without usage", async () => {
  const upstream = await upstreamWith({ noUsage: true });
  const g = await gateway(upstream, { estimate_missing_usage: false });
  assert.equal((await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: CHAT_BODY })).status, 200);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await charges(), { quota: 0, limit: 0 });
});

test("estimate_bytes_per_token sets the estimate's ratio", async () => {
  const upstream = await upstreamWith({ noUsage: true });
  const g = await gateway(upstream, { estimate_bytes_per_token: 2 });
  const plain = await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: CHAT_BODY });
  const estimate = Math.ceil(Buffer.byteLength(CHAT_BODY) / 2) + Math.ceil(Buffer.byteLength(plain.body) / 2);
  await expectCharges({ quota: estimate, limit: estimate });
});

test("no estimate for a request without a body or an answer that is not 2xx", async () => {
  const ok = await upstreamWith({ noUsage: true });
  const g = await gateway(ok);
  assert.equal((await request(`${g.url}/v1/models`, { headers: HEADERS })).status, 200);
  const failing = await upstreamWith({ errorStatus: 500 });
  const g2 = await gateway(failing);
  assert.equal((await request(`${g2.url}/v1/chat/completions`, { headers: HEADERS, body: CHAT_BODY })).status, 500);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await charges(), { quota: 0, limit: 0 });
});

test("a client hanging up after the usage event, before [DONE], is charged the usage", async () => {
  const upstream = await upstreamWith({ stallAt: "data: [DONE]" });
  const g = await gateway(upstream);
  // A client that asked for usage sees the event; one whose include_usage was injected does not (A1), the plugins read it all the same.
  const asked = JSON.stringify({ model: "qwen-max", stream: true, stream_options: { include_usage: true }, messages: MESSAGES });
  const received = await chatAndHangUp(g, asked, '"usage":{', 50);
  assert.doesNotMatch(received, /\[DONE\]/);
  await expectCharges({ quota: PROMPT + COMPLETION, limit: PROMPT + COMPLETION });
  const injected = await chatAndHangUp(g, STREAM_BODY, '"finish_reason":"stop"', 100);
  assert.doesNotMatch(injected, /"usage":\{/);
  await expectCharges({ quota: 2 * (PROMPT + COMPLETION), limit: 2 * (PROMPT + COMPLETION) });
  assert.deepEqual(estimated(g), [0, 0]);
});

test("a client hanging up at finish_reason, before any usage, is charged the estimate of what was streamed", async () => {
  const upstream = await upstreamWith({ stallAt: '"choices":[]' });
  const g = await gateway(upstream);
  const received = await chatAndHangUp(g, STREAM_BODY, '"finish_reason":"stop"', 50);
  // Every event written reached the plugins, also the usage chunk's beginning, which the SSE
  // filter holds back from the client (it may still turn out to be the usage-only event, A1).
  const events = received.split("\n\n").filter((e) => e.startsWith("data: ")).length + 1;
  const quota = tokensOf(Buffer.byteLength(STREAM_BODY)) + events;
  const limit = tokensOf(Buffer.byteLength(STREAM_BODY + INJECTED)) + events;
  await expectCharges({ quota, limit });
  assert.deepEqual(estimated(g), [quota, limit]);
});

test("a client hanging up mid-stream is charged an estimate once, and the next chat is charged its usage", async () => {
  const upstream = await upstreamWith({ chunkSize: 40, chunkDelayMs: 10 });
  const g = await gateway(upstream);
  await chatAndHangUp(g, STREAM_BODY, "data: ");
  await waitFor(() => estimated(g).every((n) => n > 0));
  await new Promise((r) => setTimeout(r, 600));
  const [quotaEstimate, limitEstimate] = estimated(g);
  assert.ok(quotaEstimate >= tokensOf(Buffer.byteLength(STREAM_BODY)), `estimate ${quotaEstimate}`);
  assert.deepEqual(await charges(), { quota: quotaEstimate, limit: limitEstimate }, "charged once, the estimate");
  assert.equal((await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: STREAM_BODY })).status, 200);
  await expectCharges({ quota: quotaEstimate + PROMPT + COMPLETION, limit: limitEstimate + PROMPT + COMPLETION });
});

test("an upstream resetting mid-stream is charged an estimate once, and the same gateway serves the next chat", async () => {
  const upstream = await upstreamWith({ chunkSize: 40, chunkDelayMs: 10, resetAfterBytes: 160 });
  const g = await gateway(upstream);
  const broken = await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: STREAM_BODY }).catch(() => null);
  assert.ok(broken === null || broken.status === 200, "the answer had begun: the client sees a reset");
  await waitFor(() => estimated(g).every((n) => n > 0));
  const [quotaEstimate, limitEstimate] = estimated(g);
  // 160 bytes reached the plugins: the prompt's estimate and at most one token per event begun.
  assert.ok(quotaEstimate >= tokensOf(Buffer.byteLength(STREAM_BODY)) + 1, `estimate ${quotaEstimate}`);
  await expectCharges({ quota: quotaEstimate, limit: limitEstimate });
  upstream.options.resetAfterBytes = undefined;
  assert.equal((await request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body: STREAM_BODY })).status, 200);
  await expectCharges({ quota: quotaEstimate + PROMPT + COMPLETION, limit: limitEstimate + PROMPT + COMPLETION });
});
