// The request body is read as the upstream reads it (A1): escaped and repeated keys, any
// content-type; a body the plugins cannot read the upstream's way is refused with 400. Every
// variant goes through ai-quota and through ai-token-ratelimit, each behind key-auth.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startRedis, withBridge, type RedisServer } from "../support/redis.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { createHost, GET } from "../../host/direct.ts";
import { sourceReply } from "../support/source-constants.ts";
import { aiMetric, quotaMetric, ratelimitMetric } from "../support/metric-names.ts";

const USER = "user1-key-0002";
const CONSUMER = "aliyun-user1";
const MESSAGES = '[{"role":"user","content":"Who are you?"}]';
/** The upstream's usage: 3 prompt words, 12 completion tokens. */
const CHARGE = 3 + 12;
const QUOTA_KEY = `chat_quota:${CONSUMER}`;
const COUNTER_KEY = `higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:${USER}`;
const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80, timeout: 2000 };
const KEY_AUTH = { keys: ["x-api-key"], in_header: true, consumers: [{ name: CONSUMER, credential: USER }] };
const QUOTA = { admin_consumer: "aliyun-admin", redis: REDIS };
const RATELIMIT = { rule_name: "default_rule", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1000000 }] }], redis: REDIS };

/** The refusal replies as shared/usage/refusal.ts defines them, read from the source so that the test names each once. */
const refusal = (name: string) => sourceReply("shared/usage/refusal.ts", name);
const ENCODING = refusal("UNREADABLE_ENCODING");
const KEY = refusal("UNDECIDABLE_KEY");
const STREAM = refusal("NON_BOOLEAN_STREAM");

let upstream: Upstream;
let redis: RedisServer;
let quota: Gateway;
let limiter: Gateway;

function gateway(name: string, config: object): Promise<Gateway> {
  return startGateway({
    clusters: { llm: { url: upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: KEY_AUTH },
      { name, wasm: pluginWasm(name), config },
    ],
  });
}

before(async () => {
  upstream = await startUpstream({ completionTokens: 12 });
  redis = await startRedis();
  quota = await gateway("ai-quota", QUOTA);
  limiter = await gateway("ai-token-ratelimit", RATELIMIT);
});
after(async () => {
  for (const g of [quota, limiter]) {
    assert.equal(g.chain.failed(), false, "no VM trapped");
    await g.close();
  }
  await upstream.close();
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
  await redis.client.set(QUOTA_KEY, 1000);
});

function send(g: Gateway, body: string | Uint8Array, headers: Array<[string, string]>) {
  return request(`${g.url}/v1/chat/completions`, { headers: [["x-api-key", USER], ...headers], body });
}

/** Sends the body through both plugins: each answers a stream, and charges its usage in Redis. */
async function assertStreamCharged(body: string | Uint8Array, headers: Array<[string, string]>) {
  const viaQuota = await send(quota, body, headers);
  assert.equal(viaQuota.status, 200);
  assert.equal(viaQuota.headers["content-type"], "text/event-stream");
  assert.match(viaQuota.body, /data: \[DONE\]/);
  await waitFor(async () => (await redis.client.get(QUOTA_KEY)) === String(1000 - CHARGE));
  const viaLimiter = await send(limiter, body, headers);
  assert.equal(viaLimiter.status, 200);
  assert.equal(viaLimiter.headers["content-type"], "text/event-stream");
  await waitFor(async () => (await redis.client.get(COUNTER_KEY)) === String(CHARGE));
}

const JSON_TYPE: Array<[string, string]> = [["content-type", "application/json"]];
const CHARGED: Array<{ name: string; body: string; headers: Array<[string, string]> }> = [
  { name: "an escaped stream key", body: `{"model":"qwen-max","str\\u0065am":true,"messages":${MESSAGES}}`, headers: JSON_TYPE },
  { name: "an escaped include_usage key set false", body: `{"model":"qwen-max","stream":true,"stream_options":{"include\\u005fusage":false},"messages":${MESSAGES}}`, headers: JSON_TYPE },
  { name: "stream given twice, false then true (escaped)", body: `{"model":"qwen-max","stream":false,"messages":${MESSAGES},"\\u0073tream":true}`, headers: JSON_TYPE },
  { name: "stream_options given twice, the last asking no usage (escaped)", body: `{"model":"qwen-max","stream":true,"stream_options":{"include_usage":true},"messages":${MESSAGES},"stream_options":{"include_usage":false,"include\\u005Fusage":false}}`, headers: JSON_TYPE },
  { name: "a JSON body sent as text/plain", body: `{"model":"qwen-max","stream":true,"messages":${MESSAGES}}`, headers: [["content-type", "text/plain"]] },
  { name: "a JSON body sent without a content-type", body: `{"model":"qwen-max","stream":true,"messages":${MESSAGES}}`, headers: [] },
  { name: "a JSON body sent as form data", body: `\r\n {"model":"qwen-max","stream":true,"messages":${MESSAGES}}`, headers: [["content-type", "application/x-www-form-urlencoded"]] },
];
for (const variant of CHARGED) {
  test(`${variant.name}: the upstream streams, and both plugins charge the stream's usage`, async () => {
    await assertStreamCharged(variant.body, variant.headers);
  });
}

test("plain repeated keys: the last stream and the last stream_options are the ones read", async () => {
  await assertStreamCharged(`{"model":"qwen-max","stream":false,"messages":${MESSAGES},"stream":true}`, JSON_TYPE);
  await redis.client.set(QUOTA_KEY, 1000);
  await redis.client.command("DEL", COUNTER_KEY);
  await assertStreamCharged(`{"model":"qwen-max","stream":true,"stream_options":{"include_usage":true},"messages":${MESSAGES},"stream_options":{"include_usage":false}}`, JSON_TYPE);
});

const STREAMED = `{"model":"qwen-max","stream":true,"messages":${MESSAGES}}`;
const REFUSED: Array<{ name: string; body: string | Uint8Array; headers: Array<[string, string]>; reply: { status: number; body: string } }> = [
  { name: "a gzip-encoded body", body: gzipSync(STREAMED), headers: [["content-type", "application/json"], ["content-encoding", "gzip"]], reply: ENCODING },
  { name: "a JSON body in UTF-16", body: Buffer.from(STREAMED, "utf16le"), headers: JSON_TYPE, reply: ENCODING },
  { name: "a body declared as UTF-7", body: STREAMED, headers: [["content-type", "application/json; charset=utf-7"]], reply: ENCODING },
  { name: "a lone surrogate in a key", body: `{"model":"qwen-max","stream":true,"\\ud800":1,"messages":${MESSAGES}}`, headers: JSON_TYPE, reply: KEY },
  { name: "invalid UTF-8 in a key", body: Buffer.concat([Buffer.from('{"model":"qwen-max","str'), Buffer.from([0xff]), Buffer.from(`eam":true,"messages":${MESSAGES}}`)]), headers: JSON_TYPE, reply: KEY },
  { name: "a key that is stream only with case ignored", body: `{"model":"qwen-max","Stream":true,"messages":${MESSAGES}}`, headers: JSON_TYPE, reply: KEY },
  { name: "a key that is include_usage only with case folded (long s)", body: `{"model":"qwen-max","stream":true,"stream_options":{"include_u\\u017fage":false},"messages":${MESSAGES}}`, headers: JSON_TYPE, reply: KEY },
  { name: "a stream that is the string \"true\"", body: `{"model":"qwen-max","stream":"true","messages":${MESSAGES}}`, headers: JSON_TYPE, reply: STREAM },
  { name: "a stream that is 1", body: `{"model":"qwen-max","stream":1,"messages":${MESSAGES}}`, headers: [], reply: STREAM },
];
for (const refused of REFUSED) {
  test(`${refused.name}: both plugins answer 400 with the shared message, forward nothing and charge nothing`, async () => {
    const forwarded = upstream.requests.length;
    for (const g of [quota, limiter]) {
      const res = await send(g, refused.body, refused.headers);
      assert.deepEqual([res.status, res.body], [refused.reply.status, refused.reply.body]);
    }
    assert.equal(upstream.requests.length, forwarded, "nothing reached the upstream");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(await redis.client.get(QUOTA_KEY), "1000");
    assert.equal(await redis.client.get(COUNTER_KEY), null);
  });
}

test("a refused body is counted in each plugin's metric", async () => {
  await send(quota, `{"stream":1}`, JSON_TYPE);
  await send(limiter, `{"stream":1}`, JSON_TYPE);
  const value = (g: Gateway, name: string) => g.metrics().find((m) => m.name === name)?.value;
  assert.ok((value(quota, aiMetric({ route: "aliyun", cluster: "llm", model: "none", consumer: CONSUMER }, quotaMetric("REQUEST_BODY_REFUSED_METRIC"))) ?? 0) >= 1);
  assert.ok((value(limiter, aiMetric({ route: "aliyun", cluster: "llm", model: "none", consumer: CONSUMER }, ratelimitMetric("REQUEST_BODY_REFUSED_METRIC"))) ?? 0) >= 1);
});

test("a body that is not a JSON object goes on unchanged and is not held to its end; with a consumer out of quota nothing goes", async () => {
  await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
    const host = await createHost({ wasm: pluginWasm("ai-quota"), config: QUOTA, redis: bridge });
    const s = host.newStream().sendRequestHeaders(GET("/v1/audio/transcriptions", [["x-mse-consumer", CONSUMER], ["content-type", "multipart/form-data; boundary=b"]]), false);
    s.sendRequestBody("--b\r\ncontent-disposition: form-data; name=file\r\n\r\n", false);
    await waitFor(() => s.upstream.chunks.length > 0);
    assert.equal(s.upstream.ended, false, "the first chunk went on before the body ended");
    s.sendRequestBody('{"stream":true}\r\n--b--\r\n', true);
    assert.equal(s.upstreamBody(), '--b\r\ncontent-disposition: form-data; name=file\r\n\r\n{"stream":true}\r\n--b--\r\n');

    const denied = host.newStream().sendRequestHeaders(GET("/v1/audio/transcriptions", [["x-mse-consumer", "nobody"], ["content-type", "multipart/form-data; boundary=b"]]), false);
    denied.sendRequestBody("--b\r\n", true);
    await waitFor(() => denied.response() !== null);
    assert.equal(denied.response()?.status, 403);
    assert.equal(denied.upstream.headers, null);
    assert.equal(host.chain.failed(), false);
  });
});

test("a JSON object whose first chunks are whitespace, half a byte-order mark or one byte is still held whole and read", async () => {
  await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
    const host = await createHost({ wasm: pluginWasm("ai-token-ratelimit"), config: RATELIMIT, redis: bridge });
    const splits: Array<Array<Buffer>> = [
      [Buffer.from("  \r\n"), Buffer.from("\t "), Buffer.from(STREAMED)],
      [Buffer.from([0xef, 0xbb]), Buffer.from([0xbf]), Buffer.from(STREAMED)],
      [Buffer.from(STREAMED.slice(0, 1)), Buffer.from(STREAMED.slice(1, 3)), Buffer.from(STREAMED.slice(3))],
      [Buffer.from(STREAMED.slice(0, 4)), Buffer.from(STREAMED.slice(4))],
    ];
    for (const chunks of splits) {
      const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["x-api-key", USER], ["content-type", "text/plain"]]), false);
      chunks.forEach((chunk, i) => s.sendRequestBody(chunk, i === chunks.length - 1));
      await waitFor(() => s.upstream.ended);
      const sent = Buffer.concat(s.upstream.chunks);
      const text = sent.toString("utf8").replace(/^\ufeff/, "");
      assert.equal(JSON.parse(text).stream_options?.include_usage, true, JSON.stringify(chunks.map(String)));
      assert.equal(s.upstreamHeader("content-length")[0], String(sent.length));
    }
    assert.equal(host.chain.failed(), false);
  });
});

test("an escaped model value and model key label the metrics as the upstream reads them", async () => {
  await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
    const host = await createHost({ wasm: pluginWasm("ai-quota"), config: QUOTA, redis: bridge });
    for (const body of ['{"model":"qwen\\u002dmax"}', '{"mod\\u0065l":"qwen-max"}']) {
      const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["x-mse-consumer", CONSUMER], ["content-type", "application/json"]]), false);
      s.sendRequestBody(body, true);
      await waitFor(() => s.upstream.ended);
      // No model in the response: the request's model labels the charge.
      s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]);
      s.sendResponseBody(JSON.stringify({ usage: { prompt_tokens: 3, completion_tokens: 12 } }), true);
    }
    await waitFor(() => host.metric(aiMetric({ route: "test-route", cluster: "outbound|80||upstream.static", model: "qwen-max", consumer: CONSUMER }, quotaMetric("OUTPUT_TOKEN_METRIC"))) === 24);
    assert.equal(host.chain.failed(), false);
  });
});
