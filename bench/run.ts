/**
 * `npm run bench`: module sizes, start-up time, wasm time per request next to a no-op baseline,
 * usage-reader throughput and guest memory, measured in the host's V8. Prints one table and
 * writes bench/results.json. A benchmark, not a test: nothing here fails on a number.
 */
import { readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { performance } from "node:perf_hooks";
import { cpus } from "node:os";
import { createHost, GET, type Host } from "../tests/host/direct.ts";
import { probeWasm, pluginWasm, repoRoot } from "../tests/support/paths.ts";
import { RedisBridge } from "../tests/host/redis-bridge.ts";
import { startRedis } from "../tests/support/redis.ts";

interface Row {
  figure: string;
  value: string;
}

const rows: Row[] = [];
const results: Record<string, unknown> = {};
const add = (figure: string, value: string, key: string, raw: unknown) => {
  rows.push({ figure, value });
  results[key] = raw;
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Median and p99 of `fn` in microseconds over `n` runs after `warm` warm-up runs. */
function timeIt(fn: () => void, n: number, warm = 1000): { median: number; p99: number } {
  for (let i = 0; i < warm; i++) fn();
  const samples = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    fn();
    samples[i] = (performance.now() - start) * 1000;
  }
  samples.sort((a, b) => a - b);
  return { median: quantile(samples, 0.5), p99: quantile(samples, 0.99) };
}

const modules = [
  ...(existsSync(`${repoRoot}build`) ? readdirSync(`${repoRoot}build`).filter((f) => f.endsWith(".wasm")).map((f) => ({ name: f.slice(0, -5), path: pluginWasm(f.slice(0, -5)) })) : []),
  { name: "probe/noop", path: probeWasm("noop") },
  { name: "probe/usage", path: probeWasm("usage") },
];
for (const m of modules) {
  const bytes = readFileSync(m.path);
  add(`module size ${m.name}`, `${(bytes.length / 1024).toFixed(1)} KB (${(gzipSync(bytes).length / 1024).toFixed(1)} KB gzip)`, `size.${m.name}`, { raw: bytes.length, gzip: gzipSync(bytes).length });
}

for (const m of [{ name: "probe/noop", path: probeWasm("noop") }, { name: "probe/usage", path: probeWasm("usage") }]) {
  const bytes = readFileSync(m.path);
  const samples: number[] = [];
  for (let i = 0; i < 55; i++) {
    const start = performance.now();
    await createHost({ wasm: bytes });
    if (i >= 5) samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  add(`instantiate + configure ${m.name}`, `${quantile(samples, 0.5).toFixed(2)} ms median`, `start.${m.name}`, { median_ms: quantile(samples, 0.5) });
}

const CHAT_RESPONSE = JSON.stringify({
  id: "chatcmpl-1", object: "chat.completion", created: 1, model: "qwen-max",
  choices: [{ index: 0, message: { role: "assistant", content: "x".repeat(600) }, finish_reason: "stop" }],
  usage: { prompt_tokens: 10, completion_tokens: 150, total_tokens: 160 },
});
const CHAT_REQUEST = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });

function chat(host: Host): void {
  const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["content-type", "application/json"]]), false);
  s.sendRequestBody(CHAT_REQUEST, true);
  s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]).sendResponseBody(CHAT_RESPONSE, true);
}

const REQUESTS = 10_000;
const noop = await createHost({ wasm: probeWasm("noop") });
const usage = await createHost({ wasm: probeWasm("usage") });
const base = timeIt(() => chat(noop), REQUESTS);
const withUsage = timeIt(() => chat(usage), REQUESTS);
add("non-streaming chat, no-op baseline (host + wasm)", `${base.median.toFixed(1)} µs median, ${base.p99.toFixed(1)} µs p99`, "chat.noop", base);
add("non-streaming chat, usage probe (host + wasm)", `${withUsage.median.toFixed(1)} µs median, ${withUsage.p99.toFixed(1)} µs p99`, "chat.usage", withUsage);
add("usage probe cost over baseline", `${(withUsage.median - base.median).toFixed(1)} µs (×${(withUsage.median / base.median).toFixed(2)})`, "chat.usageOverBaseline", withUsage.median - base.median);

/** Wasm time per request: the VMs' busy time over `n` requests, minus the no-op baseline's. */
/** Microseconds per request inside the module: with the host calls, and without this host's own work in them. */
function perRequest(vm: { busyMs: number; hostMs: number }, run: () => void | Promise<void>, n: number): Promise<{ busy: number; guest: number }> {
  return (async () => {
    const busy = vm.busyMs;
    const host = vm.hostMs;
    for (let i = 0; i < n; i++) await run();
    return { busy: ((vm.busyMs - busy) * 1000) / n, guest: ((vm.busyMs - busy - (vm.hostMs - host)) * 1000) / n };
  })();
}

const noopTime = await perRequest(noop.chain.vms[0], () => chat(noop), REQUESTS);
add("wasm time per chat, no-op plugin", `${noopTime.guest.toFixed(2)} µs in the guest, ${noopTime.busy.toFixed(2)} µs with host calls`, "busy.noop", noopTime);

const USER1 = [["x-api-key", "user1-key"], ["content-type", "application/json"], ["x-mse-consumer", "aliyun-user1"]] as Array<[string, string]>;
const KEY_AUTH = { keys: ["x-api-key"], consumers: [{ name: "aliyun-user1", credential: "user1-key" }, { name: "aliyun-user2", credential: "user2-key" }] };

if (existsSync(pluginWasm("key-auth"))) {
  const keyAuth = await createHost({ wasm: pluginWasm("key-auth"), config: KEY_AUTH });
  const authed = () => {
    const s = keyAuth.newStream().sendRequestHeaders(GET("/v1/chat/completions", USER1), false);
    s.sendRequestBody(CHAT_REQUEST, true);
    s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]).sendResponseBody(CHAT_RESPONSE, true);
  };
  for (let i = 0; i < 1000; i++) authed();
  const t = await perRequest(keyAuth.chain.vms[0], authed, REQUESTS);
  add("wasm time per chat, key-auth", `${t.guest.toFixed(2)} µs in the guest, ${t.busy.toFixed(2)} µs with host calls`, "busy.key-auth", t);
  add("Redis calls per request, key-auth", "0", "redis.key-auth", 0);
}

const AI_PLUGINS: Array<[string, object]> = [
  ["ai-quota", { admin_consumer: "aliyun-admin", redis: { service_name: "bench-redis.static" } }],
  ["ai-token-ratelimit", { rule_name: "bench", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1_000_000_000 }] }], redis: { service_name: "bench-redis.static" } }],
];
if (AI_PLUGINS.every(([name]) => existsSync(pluginWasm(name)))) {
  const redis = await startRedis();
  const bridge = new RedisBridge({ "outbound|80||bench-redis.static": { host: "127.0.0.1", port: redis.port } });
  let redisCalls = 0;
  const call = bridge.call.bind(bridge);
  bridge.call = (cluster, query, onReply) => {
    redisCalls++;
    return call(cluster, query, onReply);
  };
  await redis.client.set("chat_quota:aliyun-user1", 1_000_000_000_000);
  for (const [name, config] of AI_PLUGINS) {
    const host = await createHost({ wasm: pluginWasm(name), config, redis: bridge });
    const one = async () => {
      const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", USER1), false).sendRequestBody(CHAT_REQUEST, true);
      while (!s.upstream.ended) await new Promise((r) => setImmediate(r));
      s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]).sendResponseBody(CHAT_RESPONSE, true);
    };
    for (let i = 0; i < 500; i++) await one();
    const calls = redisCalls;
    const n = REQUESTS / 2;
    const t = await perRequest(host.chain.vms[0], one, n);
    add(`wasm time per chat, ${name} (Redis waits excluded)`, `${t.guest.toFixed(2)} µs in the guest, ${t.busy.toFixed(2)} µs with host calls`, `busy.${name}`, t);
    add(`Redis calls per chat, ${name}`, `${((redisCalls - calls) / n).toFixed(2)} (check + charge)`, `redis.${name}`, (redisCalls - calls) / n);
  }
  await bridge.close();
  await redis.stop();
}

/** An OpenAI SSE stream of about `bytes` bytes, delivered in 16 KiB chunks. */
function sseStream(bytes: number): Buffer[] {
  const event = (content: string) => `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"qwen-max","choices":[{"index":0,"delta":{"content":"${content}"},"finish_reason":null}],"usage":null}\n\n`;
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const e = event("token ");
    parts.push(e);
    size += e.length;
  }
  parts.push('data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"qwen-max","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2000,"total_tokens":2010}}\n\ndata: [DONE]\n\n');
  const all = Buffer.from(parts.join(""));
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; at += 16384) chunks.push(all.subarray(at, at + 16384));
  return chunks;
}

function streamThrough(host: Host, chunks: Buffer[], type: string): void {
  const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions"), true);
  s.sendResponseHeaders([[":status", "200"], ["content-type", type]]);
  for (let i = 0; i < chunks.length; i++) s.sendResponseBody(chunks[i], i === chunks.length - 1);
}

const MB = 1024 * 1024;
const sse = sseStream(8 * MB);
const sseBytes = sse.reduce((n, c) => n + c.length, 0);
const jsonBody = Buffer.from(JSON.stringify({ ...JSON.parse(CHAT_RESPONSE), choices: [{ index: 0, message: { role: "assistant", content: "y".repeat(8 * MB) } }] }));
const json: Buffer[] = [];
for (let at = 0; at < jsonBody.length; at += 16384) json.push(jsonBody.subarray(at, at + 16384));
for (const [label, chunks, type, bytes] of [["SSE", sse, "text/event-stream", sseBytes], ["JSON", json, "application/json", jsonBody.length]] as const) {
  const baseT = timeIt(() => streamThrough(noop, chunks as Buffer[], type), 5, 2);
  const usageT = timeIt(() => streamThrough(usage, chunks as Buffer[], type), 5, 2);
  const readerSeconds = (usageT.median - baseT.median) / 1e6;
  const mbps = bytes / MB / readerSeconds;
  add(`usage reader throughput, ${(bytes / MB).toFixed(0)} MB ${label} in 16 KiB chunks`, `${mbps.toFixed(0)} MB/s (reader time over the no-op baseline)`, `reader.${label}`, { mbps, baseline_us: baseT.median, usage_us: usageT.median });
}

// The reader alone, in its own module: the figure the ≥ 300 MB/s target is about.
{
  const asc = (await import("assemblyscript/asc")).default;
  const out = `${repoRoot}build/bench/reader.wasm`;
  // Its own config: a benchmark module imports env.abort, which the plugin build flags forbid.
  const { error, stderr } = await asc.main([`${repoRoot}bench/reader-entry.ts`, "--config", `${repoRoot}bench/asconfig.json`, "-O3", "--runtime", "incremental", "--exportRuntime", "-o", out]);
  if (error) throw new Error(stderr.toString());
  const { instance } = await WebAssembly.instantiate(readFileSync(out), { env: { abort: () => { throw new Error("abort"); } } });
  const exports = instance.exports as unknown as { alloc(n: number): number; run(p: number, c: number): bigint; memory: WebAssembly.Memory };
  for (const [label, body] of [["SSE", Buffer.concat(sse)], ["JSON", jsonBody]] as const) {
    const ptr = exports.alloc(body.length);
    new Uint8Array(exports.memory.buffer).set(body, ptr);
    for (let i = 0; i < 5; i++) exports.run(ptr, 16384);
    // The median of 15 passes: single passes swing by ±15% on a shared 2-core machine.
    const rates: number[] = [];
    for (let i = 0; i < 15; i++) {
      const started = performance.now();
      exports.run(ptr, 16384);
      rates.push(body.length / MB / ((performance.now() - started) / 1000));
    }
    rates.sort((a, b) => a - b);
    const median = rates[7];
    add(`usage reader alone in wasm, ${(body.length / MB).toFixed(0)} MB ${label} (median of 15)`, `${median.toFixed(0)} MB/s (range ${rates[0].toFixed(0)}–${rates[14].toFixed(0)})`, `readerAlone.${label}`, { median, min: rates[0], max: rates[14] });
  }
}

const memory = usage.chain.vms[0].memory;
const memoryAt: Record<string, number> = {};
let done = 0;
for (const target of [1_000, 10_000, 100_000]) {
  while (done < target) {
    chat(usage);
    done++;
  }
  memoryAt[target] = memory.buffer.byteLength;
}
add("guest memory after 1k / 10k / 100k chats (usage probe)", Object.values(memoryAt).map((b) => `${(b / 1024).toFixed(0)} KiB`).join(" / "), "memory.usage", memoryAt);

const width = Math.max(...rows.map((r) => r.figure.length));
console.log(`node ${process.version}, ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}`);
for (const r of rows) console.log(`${r.figure.padEnd(width)}  ${r.value}`);
writeFileSync(new URL("./results.json", import.meta.url), JSON.stringify({ node: process.version, cpu: cpus()[0]?.model, results }, null, 2) + "\n");
