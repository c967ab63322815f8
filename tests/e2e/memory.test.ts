/**
 * The plugins run on AssemblyScript's minimal runtime, which collects only between callbacks
 * (shared/abi/memory.ts). These tests hold each built plugin to a flat heap: over many chats, over
 * one long stream of large chunks that arrives within a single request, and (the AI plugins) over
 * chats that each name a new, huge model and consumer.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET, type Host } from "../../host/direct.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { pluginWasm } from "../support/paths.ts";

const CLUSTER = "outbound|80||memory-redis.static";
const REDIS = { service_name: "memory-redis.static" };
const PLUGINS: Array<[string, object]> = [
  ["key-auth", { keys: ["x-api-key"], in_header: true, consumers: [{ name: "aliyun-user1", credential: "user1-key" }] }],
  ["ai-statistics", { attributes: [{ key: "answer", apply_to_log: true }, { key: "question", apply_to_log: true }] }],
  ["ai-quota", { admin_consumer: "aliyun-admin", redis: REDIS }],
  ["ai-token-ratelimit", { rule_name: "memory", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1_000_000_000_000 }] }], redis: REDIS }],
];
const HEADERS: Array<[string, string]> = [["x-api-key", "user1-key"], ["x-mse-consumer", "aliyun-user1"], ["content-type", "application/json"]];
const REQUEST = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });
const RESPONSE = JSON.stringify({ model: "qwen-max", choices: [{ message: { content: "x".repeat(500) } }], usage: { prompt_tokens: 10, completion_tokens: 150 } });

const DONE_EVENT = "data: [DONE]\n\n";
const LAST_EVENT = 'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2}}\n\n' + DONE_EVENT;
const STREAM_REQUEST = JSON.stringify({ model: "qwen-max", stream: true, messages: [{ role: "user", content: "Who are you?" }] });

let redis: RedisServer;
let bridge: RedisBridge;

before(async () => {
  redis = await startRedis();
  bridge = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: redis.port } });
  await redis.client.set("chat_quota:aliyun-user1", 1_000_000_000_000);
});
after(async () => {
  await bridge.close();
  await redis.stop();
});

/** One request through to the end of its response, waiting for any Redis check in between. */
async function chat(host: Host, respond: (s: ReturnType<Host["newStream"]>) => void): Promise<void> {
  const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", HEADERS), false).sendRequestBody(REQUEST, true);
  await s.decided();
  assert.ok(s.upstream.ended, "the chat reached the upstream");
  respond(s);
}

for (const [name, config] of PLUGINS) {
  test(`${name}: guest memory stays flat from 2 000 to 10 000 chats`, async () => {
    const host = await createHost({ wasm: pluginWasm(name), config, redis: bridge });
    const memory = host.chain.vms[0].memory;
    const respond = (s: ReturnType<Host["newStream"]>) =>
      s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]).sendResponseBody(RESPONSE, true);
    for (let i = 0; i < 2000; i++) await chat(host, respond);
    const after2k = memory.buffer.byteLength;
    for (let i = 0; i < 8000; i++) await chat(host, respond);
    assert.equal(memory.buffer.byteLength, after2k);
    assert.equal(host.chain.failed(), false);
  });

  test(`${name}: a 64 MB stream in 1 MB chunks keeps guest memory under 8 MB`, async () => {
    const host = await createHost({ wasm: pluginWasm(name), config, redis: bridge });
    const memory = host.chain.vms[0].memory;
    const event = Buffer.from(`data: {"choices":[{"delta":{"content":"${"y".repeat(200)}"}}]}\n\n`);
    const chunk = Buffer.concat(new Array(Math.ceil((1 << 20) / event.length)).fill(event));
    let s: ReturnType<Host["newStream"]> | null = null;
    await chat(host, (stream) => {
      s = stream;
      stream.sendResponseHeaders([[":status", "200"], ["content-type", "text/event-stream"]]);
      for (let i = 0; i < 64; i++) stream.sendResponseBody(chunk, false);
      stream.sendResponseBody(LAST_EVENT, true);
    });
    assert.ok(memory.buffer.byteLength < 8 << 20, `guest memory ${memory.buffer.byteLength} bytes`);
    assert.equal(Buffer.concat(s!.downstream.chunks).length, 64 * chunk.length + LAST_EVENT.length, "the stream reached the client whole");
    assert.equal(host.chain.failed(), false);
  });
}

// Labels from traffic (issue 15, item 9): every chat names a new model and a new consumer, 1 KB
// each, and every 64th a 500 KB model (in the request and the answer) and a 48 KB consumer. Past
// the label caps (shared/runtime/metrics.ts) nothing more is kept, so guest memory stops growing.
const HUGE_MODEL = "h.".repeat(256 * 1024);
const HUGE_CONSUMER = "k.".repeat(24 * 1024);

async function adversarialChat(host: Host, i: number): Promise<void> {
  const huge = i % 64 === 0;
  const model = (huge ? HUGE_MODEL : "m.".repeat(512)) + i;
  const consumer = (huge ? HUGE_CONSUMER : "c.".repeat(512)) + i;
  await redis.client.set(`chat_quota:${consumer}`, 1_000_000);
  const headers: Array<[string, string]> = [["x-api-key", "user1-key"], ["x-mse-consumer", consumer], ["content-type", "application/json"]];
  const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", headers), false);
  s.sendRequestBody(JSON.stringify({ model, messages: [{ role: "user", content: "Who are you?" }] }), true);
  await s.decided();
  assert.ok(s.upstream.ended, "the chat reached the upstream");
  s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]);
  s.sendResponseBody(JSON.stringify({ model, usage: { prompt_tokens: 10, completion_tokens: 150 } }), true);
}

for (const [name, config] of PLUGINS.filter(([plugin]) => plugin.startsWith("ai-"))) {
  test(`${name}: guest memory stays flat from 1 500 to 4 500 chats that each name a new, huge model and consumer`, async () => {
    const host = await createHost({ wasm: pluginWasm(name), config, redis: bridge });
    const memory = host.chain.vms[0].memory;
    let i = 0;
    for (; i < 1500; i++) await adversarialChat(host, i);
    const after1500 = memory.buffer.byteLength;
    for (; i < 4500; i++) await adversarialChat(host, i);
    assert.equal(memory.buffer.byteLength, after1500);
    assert.ok(after1500 < 8 << 20, `guest memory ${after1500} bytes`);
    const longest = Math.max(...host.chain.metrics().map((m) => m.name.length));
    assert.ok(longest < 512, `the longest stat name has ${longest} characters`);
    assert.equal(host.chain.failed(), false);
  });
}

// A streaming request gets include_usage injected, so the SSE filter runs: chunk ends cut events,
// the cut part is held and sent with the next chunk, and the usage-only event is removed.
for (const [name, config] of PLUGINS.filter(([plugin]) => plugin !== "key-auth")) {
  test(`${name}: a 64 MB injected stream in 1 MB chunks that cut events keeps guest memory under 8 MB and loses only the usage event`, async () => {
    const host = await createHost({ wasm: pluginWasm(name), config, redis: bridge });
    const memory = host.chain.vms[0].memory;
    const event = Buffer.from(`data: {"id":"c","object":"chat.completion.chunk","choices":[{"delta":{"content":"${"y".repeat(200)}"}}],"usage":null}\n\n`);
    const size = 1 << 20;
    const pattern = Buffer.concat(new Array(Math.ceil(size / event.length) + 2).fill(event));
    const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", HEADERS), false).sendRequestBody(STREAM_REQUEST, true);
    await s.decided();
    assert.equal(JSON.parse(Buffer.concat(s.upstream.chunks).toString()).stream_options.include_usage, true);
    s.sendResponseHeaders([[":status", "200"], ["content-type", "text/event-stream"]]);
    let sent = 0;
    for (let i = 0; i < 64; i++, sent += size) s.sendResponseBody(pattern.subarray(sent % event.length, (sent % event.length) + size), false);
    const rest = (event.length - (sent % event.length)) % event.length;
    s.sendResponseBody(Buffer.concat([pattern.subarray(sent % event.length, (sent % event.length) + rest), Buffer.from(LAST_EVENT)]), true);
    assert.ok(memory.buffer.byteLength < 8 << 20, `guest memory ${memory.buffer.byteLength} bytes`);
    const received = Buffer.concat(s.downstream.chunks);
    assert.equal(received.length, sent + rest + DONE_EVENT.length, "every content byte reached the client, the usage event did not");
    assert.equal(received.subarray(received.length - DONE_EVENT.length - event.length).toString(), event.toString() + DONE_EVENT);
    assert.equal(host.chain.failed(), false);
  });
}
