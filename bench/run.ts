/**
 * `npm run bench`: module sizes, start-up time, wasm time per request (chat and 1 MB SSE stream)
 * next to a no-op baseline, the costliest `regexp:` key on 60 KiB of headers, Redis calls per
 * request, usage-reader throughput, guest memory and gateway throughput, measured in the host's V8.
 * key-auth is also measured as the Higress console configures it, with 3 and with 10 000 consumers,
 * and the AI plugins (alone and chained) with reserve_tokens on next to off.
 * Prints one table and writes bench/results.json. A benchmark, not a test: nothing here fails on a
 * number. `--quick` runs fewer requests.
 */
import { readFileSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { performance } from "node:perf_hooks";
import { cpus } from "node:os";
import { createHost, GET, type Host, type DirectStream } from "../host/direct.ts";
import { probeWasm, pluginWasm, repoRoot } from "../tests/support/paths.ts";
import { RedisBridge } from "../host/redis-bridge.ts";
import { measure, perCallback, quantile, clockCost } from "./guest-time.ts";
import {
  CHAT_RESPONSE, CHAT_REQUEST, USER1, LOG_LEVEL, PLUGIN_CONFIGS, CHAINS, RESERVED, RESERVED_CONFIGS, benchRedis, chat, chatResponse, consoleKeyAuth, KEY_AUTH_SCALE,
} from "./scenario.ts";
import { gatewayThroughput } from "./throughput.ts";
import { regexCost } from "./regex-cost.ts";

const QUICK = process.argv.includes("--quick");

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

const modules = [
  ...(existsSync(`${repoRoot}build`) ? readdirSync(`${repoRoot}build`).filter((f) => f.endsWith(".wasm")).map((f) => ({ name: f.slice(0, -5), path: pluginWasm(f.slice(0, -5)) })) : []),
  { name: "probe/noop", path: probeWasm("noop") },
  { name: "probe/usage", path: probeWasm("usage") },
];
for (const m of modules) {
  const bytes = readFileSync(m.path);
  add(`module size ${m.name}`, `${(bytes.length / 1024).toFixed(1)} KB (${(gzipSync(bytes).length / 1024).toFixed(1)} KB gzip)`, `size.${m.name}`, { raw: bytes.length, gzip: gzipSync(bytes).length });
}

/** Median milliseconds to instantiate and configure a module, over 50 loads after 5. */
async function startUp(name: string, wasm: Uint8Array, config: object, redis?: RedisBridge): Promise<void> {
  const samples: number[] = [];
  for (let i = 0; i < 55; i++) {
    const start = performance.now();
    await createHost({ wasm, config, redis, logLevel: LOG_LEVEL });
    if (i >= 5) samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  add(`instantiate + configure ${name}`, `${quantile(samples, 0.5).toFixed(2)} ms median`, `start.${name}`, { median_ms: quantile(samples, 0.5) });
}

const REQUESTS = QUICK ? 1_000 : 10_000;
const STREAMS = QUICK ? 100 : 10_000;
const PLUGINS = Object.keys(PLUGIN_CONFIGS);

const { redis, bridge } = await benchRedis();
let redisCalls = 0;
const call = bridge.call.bind(bridge);
bridge.call = (cluster, query, onReply) => {
  redisCalls++;
  return call(cluster, query, onReply);
};

for (const probe of ["noop", "usage"]) await startUp(`probe/${probe}`, readFileSync(probeWasm(probe)), {});
for (const name of PLUGINS) await startUp(name, readFileSync(pluginWasm(name)), PLUGIN_CONFIGS[name], bridge);
// key-auth as the console configures it, by number of consumers (issue 16: the per-request cost must not grow with it).
const scaled = (count: number) => `key-auth, ${count.toLocaleString("en").replace(",", " ")} console consumers`;
for (const count of KEY_AUTH_SCALE) await startUp(scaled(count), readFileSync(pluginWasm("key-auth")), consoleKeyAuth(count));

const hosts: Record<string, Host> = { "no-op": await createHost({ wasm: probeWasm("noop"), logLevel: LOG_LEVEL }) };
for (const name of PLUGINS) hosts[name] = await createHost({ wasm: pluginWasm(name), config: PLUGIN_CONFIGS[name], redis: bridge, logLevel: LOG_LEVEL });
// The AI plugins with reserve_tokens on, measured in the same batches as with it off (issue 19).
const reservedBase = (name: string) => name.slice(0, -RESERVED.length);
for (const [name, config] of Object.entries(RESERVED_CONFIGS)) hosts[name] = await createHost({ wasm: pluginWasm(reservedBase(name)), config, redis: bridge, logLevel: LOG_LEVEL });
for (const count of KEY_AUTH_SCALE) {
  const host = await createHost({ wasm: pluginWasm("key-auth"), config: consoleKeyAuth(count), logLevel: LOG_LEVEL });
  // Measured only if the chat authenticates: a 401 would be a cheaper path, not the same one.
  const probe = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", USER1), true);
  if (probe.upstreamHeader("x-mse-consumer").join() !== "aliyun-user1") throw new Error(`${scaled(count)}: the bench chat does not authenticate`);
  hosts[scaled(count)] = host;
}
/** A chain of plugins, with the AI plugins' configs from `configs` where it has them (RESERVED_CONFIGS turns reserve_tokens on). */
const chained = ([first, ...rest]: string[], configs: Record<string, object>) => {
  const configOf = (name: string) => configs[name + RESERVED] ?? PLUGIN_CONFIGS[name];
  return createHost({
    name: first, wasm: pluginWasm(first), config: configOf(first), redis: bridge, logLevel: LOG_LEVEL,
    more: rest.map((name) => ({ name, wasm: pluginWasm(name), config: configOf(name) })),
  });
};
for (const [chain, plugins] of Object.entries(CHAINS)) {
  hosts[chain] = await chained(plugins, {});
  hosts[chain + RESERVED] = await chained(plugins, RESERVED_CONFIGS);
}
const names = Object.keys(hosts);
const clockUs = clockCost();
add("clock read (performance.now), taken out once per timed call", `${(clockUs * 1000).toFixed(1)} ns`, "clock_ns", clockUs * 1000);
const chats = await measure(names.map((name) => ({ name, host: hosts[name], run: () => chat(hosts[name], chatResponse) })), REQUESTS, 100, 500, clockUs);
for (const name of names) {
  const t = chats.get(name)!;
  add(
    `wasm time per chat, ${name}`,
    `${t.median.toFixed(2)} µs median, ${t.p99.toFixed(2)} µs p99 (${t.raw.toFixed(2)} µs with the clock's cost of ${t.timings.toFixed(0)} timed calls, ${t.withHost.toFixed(2)} µs with host calls)`,
    `chat.${name}`, t,
  );
}

// reserve_tokens off next to on, from the same interleaved batches.
for (const on of names.filter((n) => n.endsWith(RESERVED))) {
  const [a, b] = [chats.get(reservedBase(on))!, chats.get(on)!];
  const change = (x: number, y: number) => `${y >= x ? "+" : ""}${(((y - x) / x) * 100).toFixed(0)}%`;
  add(
    `wasm time per chat, ${reservedBase(on)}, reserve_tokens off vs on`,
    `${a.median.toFixed(2)} vs ${b.median.toFixed(2)} µs median (${change(a.median, b.median)}), ${a.p99.toFixed(1)} vs ${b.p99.toFixed(1)} µs p99`,
    `reserve.${reservedBase(on)}`, { off: a.median, on: b.median },
  );
}

for (const [pattern, t] of await regexCost(bridge, Math.max(100, REQUESTS / 20), clockUs)) {
  add(
    `wasm time per request, ai-token-ratelimit, regexp:${pattern} on 60 KiB of headers (answered ${t.status})`,
    `${(t.median / 1000).toFixed(2)} ms median, ${(t.p99 / 1000).toFixed(2)} ms p99`,
    `regex.${pattern}`, t,
  );
}

for (const name of ["ai-statistics", "ai-quota", "ai-token-ratelimit", ...Object.keys(RESERVED_CONFIGS)]) {
  const split = await perCallback(hosts[name], () => chat(hosts[name], chatResponse), REQUESTS, clockUs);
  add(`wasm time per chat by callback, ${name}`, split.filter(([, us]) => us >= 0.05).map(([cb, us]) => `${cb} ${us.toFixed(2)}`).join(", ") + " µs", `split.${name}`, Object.fromEntries(split));
}

for (const name of names.filter((n) => n !== "no-op" && !n.includes("console consumers"))) {
  const before = redisCalls;
  for (let i = 0; i < 1000; i++) await chat(hosts[name], chatResponse);
  add(`Redis calls per chat, ${name}`, ((redisCalls - before) / 1000).toFixed(2), `redis.${name}`, (redisCalls - before) / 1000);
}

/** An OpenAI SSE stream of about `bytes` bytes, delivered in 16 KiB chunks. */
function sseStream(bytes: number): Buffer[] {
  const event = `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"qwen-max","choices":[{"index":0,"delta":{"content":"token "},"finish_reason":null}],"usage":null}\n\n`;
  const parts: string[] = [];
  for (let size = 0; size < bytes; size += event.length) parts.push(event);
  parts.push('data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"qwen-max","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":2000,"total_tokens":2010}}\n\ndata: [DONE]\n\n');
  const all = Buffer.from(parts.join(""));
  const chunks: Buffer[] = [];
  for (let at = 0; at < all.length; at += 16384) chunks.push(all.subarray(at, at + 16384));
  return chunks;
}

const MB = 1024 * 1024;
const stream = sseStream(MB);
const streamResponse = (s: DirectStream) => {
  s.sendResponseHeaders([[":status", "200"], ["content-type", "text/event-stream"]]);
  for (let i = 0; i < stream.length; i++) s.sendResponseBody(stream[i], i === stream.length - 1);
};
const streamNames = ["no-op", "ai-statistics", "ai-quota", "ai-token-ratelimit"];
const streams = await measure(streamNames.map((name) => ({ name, host: hosts[name], run: () => chat(hosts[name], streamResponse) })), STREAMS, 20, 50, clockUs);
for (const name of streamNames) {
  const t = streams.get(name)!;
  const rate = name === "no-op" ? "" : ` (${(1 / (t.median / 1e6)).toFixed(0)} MB/s)`;
  add(`wasm time per 1 MB SSE stream, ${name}`, `${t.median.toFixed(0)} µs median, ${t.p99.toFixed(0)} µs p99${rate}`, `stream.${name}`, t);
}
await bridge.close();
await redis.stop();

const sse = sseStream(8 * MB);
const jsonBody = Buffer.from(JSON.stringify({ ...JSON.parse(CHAT_RESPONSE), choices: [{ index: 0, message: { role: "assistant", content: "y".repeat(8 * MB) } }] }));

// The reader alone, in its own module: the figure the ≥ 300 MB/s target is about.
{
  const asc = (await import("assemblyscript/asc")).default;
  const out = `${repoRoot}build/bench/reader.wasm`;
  // Its own config: a benchmark module imports env.abort, which the plugin build flags forbid.
  const { error, stderr } = await asc.main([`${repoRoot}bench/reader-entry.ts`, "--config", `${repoRoot}bench/asconfig.json`, "-O3", "--runtime", "minimal", "--noAssert", "--exportRuntime", "-o", out]);
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

// Memory of a fresh usage probe: the plugins' own heaps are held flat by tests/e2e/memory.test.ts.
const fresh = await createHost({ wasm: probeWasm("usage"), logLevel: LOG_LEVEL });
const memory = fresh.chain.vms[0].memory;
const memoryAt: Record<string, number> = {};
let done = 0;
for (const target of [1_000, 10_000, 100_000]) {
  while (done < target) {
    const s = fresh.newStream().sendRequestHeaders(GET("/v1/chat/completions", USER1), false).sendRequestBody(CHAT_REQUEST, true);
    chatResponse(s);
    done++;
  }
  memoryAt[target] = memory.buffer.byteLength;
}
add("guest memory after 1k / 10k / 100k chats (usage probe)", Object.values(memoryAt).map((b) => `${(b / 1024).toFixed(0)} KiB`).join(" / "), "memory.usage", memoryAt);

const seconds = QUICK ? 4 : 20;
const throughput = await gatewayThroughput(seconds, 10);
add(
  "gateway throughput, three plugins vs none (autocannon, 10 connections)",
  `${throughput.plugins.toFixed(0)} vs ${throughput.plain.toFixed(0)} requests/s (×${throughput.ratio.toFixed(2)}), ${throughput.errors} errors`,
  "throughput", throughput,
);

const width = Math.max(...rows.map((r) => r.figure.length));
console.log(`node ${process.version}, ${cpus()[0]?.model ?? "cpu"} × ${cpus().length}`);
for (const r of rows) console.log(`${r.figure.padEnd(width)}  ${r.value}`);
writeFileSync(new URL("./results.json", import.meta.url), JSON.stringify({ node: process.version, cpu: cpus()[0]?.model, results }, null, 2) + "\n");
