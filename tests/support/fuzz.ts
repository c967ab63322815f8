/**
 * Fuzz targets shared by `npm run fuzz` and the fixed-seed slice in the tests: each feeds mutated
 * or random input to a built plugin in the host and counts traps (a trap fails the whole VM).
 */
import { createHost, GET, type Host } from "../../host/direct.ts";
import { pluginWasm, probeWasm } from "./paths.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";
import { gzipSync } from "node:zlib";

/** Deterministic xorshift32, so every failure reproduces from its seed. */
export class Random {
  constructor(private state: number) {
    if (this.state === 0) this.state = 1;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state;
  }
  below(n: number): number {
    return this.next() % n;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}

const ALPHABET = `aZ09 -_.,:;=&?%+/\\"'{}[]()<>#@!*\t\u00e9\u4e2d\ud83d\ude00`;

/** Inserts, deletes or replaces a few characters. */
export function mutate(random: Random, text: string, edits = 3): string {
  let out = text;
  for (let i = 0; i < edits; i++) {
    const at = random.below(out.length + 1);
    const op = random.below(3);
    const ch = ALPHABET[random.below(ALPHABET.length)];
    if (op === 0) out = out.slice(0, at) + ch + out.slice(at);
    else if (op === 1) out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + ch + out.slice(at + 1);
  }
  return out;
}

export interface FuzzResult {
  inputs: number;
  traps: number;
  /** The first input that trapped, to turn into a regression test. */
  firstTrap: string | null;
  /** Targets with an oracle: inputs where the plugin's answer broke it (a request let through unmetered). */
  misses?: number;
  firstMiss?: string | null;
}

const KEY_AUTH = {
  keys: ["x-api-key", "apikey", "authorization"],
  in_header: true,
  in_query: true,
  consumers: [{ name: "a", credential: "k1" }, { name: "b", credentials: ["k2", "Bearer k3"] }],
  _rules_: [{ _match_domain_: ["*.example.com"], allow: ["a"] }],
};

/** Random paths, queries and key headers through key-auth. */
export async function fuzzRequests(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  let host: Host = await createHost({ wasm: pluginWasm("key-auth"), config: KEY_AUTH, logLevel: 6 });
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null };
  const paths = ["/v1/chat/completions?apikey=k1", "/a%zz?apikey=%zz&apikey=k2", "/?x=1;y=2", "/"];
  for (let i = 0; i < count; i++) {
    const path = mutate(random, random.pick(paths), random.below(6));
    const headers: Array<[string, string]> = [];
    for (let h = random.below(4); h > 0; h--) headers.push([random.pick(["x-api-key", "authorization", "x-mse-consumer", "cookie"]), mutate(random, random.pick(["k1", "Bearer k3", ""]), random.below(3))]);
    const authority = mutate(random, random.pick(["a.example.com", "[::1]:80", "x:1"]), random.below(2));
    const s = host.newStream().sendRequestHeaders([[":authority", authority], [":path", path.replace(/[\r\n\0]/g, "")], [":method", "GET"], [":scheme", "http"], ...headers], true);
    s.sendResponseHeaders([[":status", "200"]], true);
    result.inputs++;
    if (host.chain.failed()) {
      result.traps++;
      result.firstTrap ??= JSON.stringify({ path, headers, authority });
      host = await createHost({ wasm: pluginWasm("key-auth"), config: KEY_AUTH, logLevel: 6 });
    }
  }
  return result;
}

const BODIES = [
  '{"id":"c","model":"m","usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}',
  'data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\ndata: [DONE]\n\n',
  '[{"usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2,"totalTokenCount":3}}]',
  'event: message_start\ndata: {"message":{"usage":{"input_tokens":4,"output_tokens":1}}}\r\n\r\n',
];

/** Arrays and objects nested up to 100 000 deep around a usage object, sometimes left open. */
function deeplyNested(random: Random): string {
  const depth = 1 + random.below(100_000);
  const open = random.below(2) === 0 ? '{"usage":' : "[";
  const close = open === "[" ? "]" : "}";
  const inner = '{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}';
  return open.repeat(depth) + inner + (random.below(4) === 0 ? "" : close.repeat(depth));
}

/** Mutated, random and deeply nested response bodies, cut at random points, through the token-usage reader. */
export async function fuzzBodies(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  let host: Host = await createHost({ wasm: probeWasm("usage"), logLevel: 6 });
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null };
  for (let i = 0; i < count; i++) {
    const kind = random.below(40);
    const body = Buffer.from(
      kind < 5 ? Array.from({ length: random.below(300) }, () => String.fromCharCode(random.below(256))).join("")
        : kind === 5 ? deeplyNested(random)
          : mutate(random, random.pick(BODIES), random.below(8)),
      "latin1",
    );
    const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions"), true);
    s.sendResponseHeaders([[":status", "200"], ["content-type", random.pick(["application/json", "text/event-stream"])]]);
    for (let at = 0; at < body.length; ) {
      const size = 1 + random.below(body.length > 4096 ? 65536 : 40);
      s.sendResponseBody(body.subarray(at, at + size), at + size >= body.length);
      at += size;
    }
    if (body.length === 0) s.sendResponseBody("", true);
    result.inputs++;
    if (host.chain.failed()) {
      result.traps++;
      result.firstTrap ??= body.toString("latin1");
      host = await createHost({ wasm: probeWasm("usage"), logLevel: 6 });
    }
  }
  return result;
}

/** Bytes that matter to SSE framing and to the usage-only event test, for the edits below. */
const SSE_EDITS = ["\n", "\r", "\r\n", "\n\n", ":", "data:", "data: ", "event: x\n", "[", "]", "[]", "{", "}", '"', "\\", ",", " ", '"choices":[]', '"usage":{}', '"usage":null'];
const SSE_HEAD = '"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m"';

/** An OpenAI stream as the injection makes it: content, maybe a comment, the usage-only event, [DONE]. */
function injectedStream(random: Random): string {
  const lineEnd = random.pick(["\n", "\r\n", "\r"]);
  const events = ["", "Hi", " there", "\u4e2d"].map((text) => `data: {${SSE_HEAD},"choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}],"usage":null}`);
  if (random.below(3) === 0) events.splice(1 + random.below(events.length), 0, ": keep-alive");
  const id = random.below(8) === 0 ? "x".repeat(3000 + random.below(2000)) : "c";
  events.push(`data: {"id":"${id}","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}`);
  events.push("data: [DONE]");
  return events.map((e) => e + lineEnd + lineEnd).join("");
}

function mutateSse(random: Random, text: string, edits: number): string {
  let out = text;
  for (let i = 0; i < edits; i++) {
    const at = random.below(out.length + 1);
    const op = random.below(3);
    const piece = random.pick(SSE_EDITS);
    if (op === 0) out = out.slice(0, at) + piece + out.slice(at);
    else if (op === 1) out = out.slice(0, at) + out.slice(at + 1 + random.below(8));
    else out = out.slice(0, at) + piece + out.slice(at + piece.length);
  }
  return out;
}

/** The events of an SSE body with the bytes each spans, its blank line included; bytes between events count as kept text. */
function sseEvents(body: string): Array<{ text: string; lines: string[] }> {
  const events: Array<{ text: string; lines: string[] }> = [];
  const line = /([^\r\n]*)(\r\n|\r|\n|$)/y;
  let start = 0;
  let lines: string[] = [];
  for (let at = 0; at < body.length; ) {
    line.lastIndex = at;
    const m = line.exec(body)!;
    at += m[0].length;
    if (m[1].length === 0 || m[2] === "") {
      if (m[1].length > 0) lines.push(m[1]);
      events.push({ text: body.slice(start, at), lines });
      start = at;
      lines = [];
    } else {
      lines.push(m[1]);
    }
  }
  // The end of the stream ends an event too.
  if (start < body.length) events.push({ text: body.slice(start), lines });
  return events;
}

/**
 * May the filter remove this event: only data lines, a JSON object with `"choices": []` and an
 * object `usage`, at most 4096 bytes held (the LF of its closing CRLF is never held)?
 */
function removable(event: { text: string; lines: string[] }): boolean {
  if (event.lines.length === 0 || Buffer.byteLength(event.text.replace(/\r\n$/, "\r")) > 4096 || !event.lines.every((l) => l.startsWith("data:"))) return false;
  const data = event.lines.map((l) => l.slice(l.startsWith("data: ") ? 6 : 5)).join("\n");
  try {
    const chunk = JSON.parse(data);
    return Array.isArray(chunk?.choices) && chunk.choices.length === 0 && typeof chunk.usage === "object" && chunk.usage !== null && !Array.isArray(chunk.usage);
  } catch {
    // Malformed JSON the filter's byte-level test may still take for a usage-only object.
    return /"choices"\s*:\s*\[\s*\]/.test(data) && /"usage"\s*:\s*\{/.test(data);
  }
}

/** Null when `output` is `input` with some removable events taken out whole; else what is wrong. */
function removalError(input: string, output: string): string | null {
  let at = 0;
  for (const event of sseEvents(input)) {
    if (output.startsWith(event.text, at)) at += event.text.length;
    else if (!removable(event)) return `an event was cut or removed: ${JSON.stringify(event.text)}`;
  }
  return at === output.length ? null : "bytes the upstream never sent";
}

/**
 * Mutated SSE answers to a streaming request, so include_usage is injected and the usage-only
 * event filter runs; each is sent in one chunk and again cut at random points. Counted as a
 * failure: a trap, a client that got different bytes for the two chunkings (decision G5), or
 * anything but the upstream's bytes less some whole usage-only events (the unmutated stream's one
 * always removed).
 */
export async function fuzzInjectedStreams(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  let host: Host = await createHost({ wasm: probeWasm("usage"), logLevel: 6 });
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null };
  const request = '{"model":"m","stream":true,"messages":[]}';
  const send = (body: Buffer, cut: boolean): string => {
    const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["content-type", "application/json"]]), false).sendRequestBody(request, true);
    s.sendResponseHeaders([[":status", "200"], ["content-type", "text/event-stream"]]);
    if (!cut || body.length === 0) s.sendResponseBody(body, true);
    for (let at = 0; cut && at < body.length; ) {
      const size = 1 + random.below(random.below(4) === 0 ? 5000 : 40);
      s.sendResponseBody(body.subarray(at, at + size), at + size >= body.length);
      at += size;
    }
    return Buffer.concat(s.downstream.chunks).toString("latin1");
  };
  for (let i = 0; i < count; i++) {
    const stream = injectedStream(random);
    const edits = random.below(7);
    const text = mutateSse(random, stream, edits);
    const body = Buffer.from(text, "utf8");
    const whole = send(body, false);
    const cut = send(body, true);
    result.inputs++;
    const failed = host.chain.failed();
    const received = Buffer.from(whole, "latin1").toString("utf8");
    const wrong = failed ? "trap"
      : whole !== cut ? "chunking changed what the client got"
        : edits === 0 && received !== stream.slice(0, stream.lastIndexOf("data: {")) + stream.slice(stream.lastIndexOf("data: [DONE]")) && !stream.includes('"id":"xx') ? "the usage-only event was not removed"
          : removalError(text, received);
    if (wrong !== null) {
      result.traps++;
      result.firstTrap ??= `${wrong}: ${JSON.stringify(text)}`;
      if (failed) host = await createHost({ wasm: probeWasm("usage"), logLevel: 6 });
    }
  }
  return result;
}

/** ai-statistics with an attribute of every source, so the fuzz reaches its path lookups and SSE framing. */
const STATISTICS = {
  value_length_limit: 64,
  attributes: [
    { key: "h", value_source: "request_header", value: "x-api-key", apply_to_log: true },
    { key: "question", apply_to_log: true },
    { key: "q", value_source: "request_body", value: "messages.@reverse.0.content", apply_to_log: true },
    { key: "n", value_source: "request_body", value: "messages.#", apply_to_log: true },
    { key: "answer", apply_to_log: true },
    { key: "u", value_source: "response_body", value: "usage", apply_to_log: true },
    { key: "f", value_source: "response_streaming_body", value: "choices.0.finish_reason", rule: "replace", apply_to_log: true },
    { key: "model", value_source: "response_streaming_body", value: "model", rule: "first", apply_to_log: true },
  ],
};

const CONFIGS: Array<[string, object]> = [
  ["key-auth", KEY_AUTH],
  ["ai-quota", { admin_consumer: "admin", redis: { service_name: "r.static", timeout: 10, database: 1 } }],
  ["ai-token-ratelimit", { rule_name: "r", rule_items: [{ limit_by_per_ip: "from-header-x-real-ip", limit_keys: [{ key: "10.0.0.0/8", token_per_minute: 5 }] }, { limit_by_per_param: "k", limit_keys: [{ key: "regexp:^(a|b)+$", token_per_hour: 9 }] }], redis: { service_name: "r.static" } }],
  ["ai-statistics", STATISTICS],
];

/** Config keys the plugins know, so random JSON reaches their field readers. */
const CONFIG_KEYS = [
  "keys", "consumers", "name", "credential", "credentials", "in_header", "in_query", "global_auth", "allow", "hide_credentials",
  "_rules_", "_match_route_", "_match_domain_", "_match_service_", "_match_route_prefix_", "admin_consumer", "admin_path",
  "redis_key_prefix", "redis", "service_name", "service_port", "password", "timeout", "database", "rule_name", "rule_items",
  "global_threshold", "limit_by_header", "limit_by_per_ip", "limit_by_per_param", "limit_keys", "key", "token_per_minute",
  "token_per_second", "rejected_code", "rejected_msg", "failure_mode_deny", "show_limit_quota_header", "inject_stream_usage",
  "attributes", "value_source", "value", "rule", "apply_to_log", "default_value", "value_length_limit", "enable_path_suffixes", "enable_content_types",
];

/** A random JSON value: objects keyed mostly by real config keys, any type anywhere. */
function randomJson(random: Random, depth: number): unknown {
  const kind = depth > 4 ? random.below(5) : random.below(7);
  switch (kind) {
    case 0: return null;
    case 1: return random.below(2) === 0;
    case 2: return random.pick([0, -1, 1, 80, 6379, 1e300, -1e-300, 2 ** 63, 1.5, random.next()]);
    case 3: return random.pick(["", "*", "regexp:(a+)+$", "regexp:(", "from-remote-addr", "from-header-x", "10.0.0.0/8", "::1/129", "a.static", "\u0000", "é"]);
    case 4: return random.pick(CONFIG_KEYS);
    case 5: return Array.from({ length: random.below(4) }, () => randomJson(random, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let n = random.below(6); n > 0; n--) out[random.below(8) === 0 ? mutate(random, "k", 2) : random.pick(CONFIG_KEYS)] = randomJson(random, depth + 1);
      return out;
    }
  }
}

/** Mutated configuration text and random JSON: configure may refuse it, but must never trap. */
export async function fuzzConfigs(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null };
  for (let i = 0; i < count; i++) {
    const [name, config] = random.pick(CONFIGS);
    const text = random.below(3) === 0 ? JSON.stringify(randomJson(random, 0)) : mutate(random, JSON.stringify(config), 1 + random.below(4));
    result.inputs++;
    try {
      await createHost({ wasm: pluginWasm(name), config: text, logLevel: 6 });
    } catch (e) {
      // A refusal is fine; "Wasm VM failed: <trap>" is what a trap during configure logs.
      if (/Wasm VM failed: /.test(String((e as Error).message))) {
        result.traps++;
        result.firstTrap ??= `${name}: ${text}`;
      }
    }
  }
  return result;
}

/**
 * Stands in for Redis in the reply fuzzer only: every command is answered, on a later turn, with
 * a mutated or random RESP reply or a network error. Behaviour tests use a real redis-server.
 */
class ReplyFuzzer extends RedisBridge {
  constructor(private readonly random: Random) {
    super({});
  }
  init(): number {
    return 0;
  }
  call(_cluster: string, _query: Uint8Array, onReply: (status: 0 | 1, reply: Uint8Array) => void): number {
    const r = this.random;
    const status = r.below(10) === 0 ? 1 : 0;
    const base = r.pick(REPLIES);
    const text = r.below(6) === 0 ? Array.from({ length: r.below(40) }, () => String.fromCharCode(r.below(256))).join("") : r.below(2) === 0 ? base : mutate(r, base, 1 + r.below(4));
    setImmediate(() => onReply(status, Buffer.from(text, "latin1")));
    return 0;
  }
}

const REPLIES = [
  "*2\r\n*3\r\n:5\r\n:0\r\n:60\r\n*3\r\n:50\r\n:0\r\n:3600\r\n", "*2\r\n*3\r\n:5\r\n:9\r\n:42\r\n*3\r\n:50\r\n:9\r\n:3000\r\n", ":1\r\n", "$3\r\n100\r\n", "$-1\r\n", ":90\r\n",
  "+OK\r\n", "-ERR wrong\r\n", "*2\r\n*3\r\n$2\r\n10\r\n:3\r\n:-2\r\n*0\r\n", "*-1\r\n",
];
const AI_PLUGINS: Array<[string, object]> = [
  ["ai-quota", { admin_consumer: "admin", redis: { service_name: "r.static" } }],
  ["ai-token-ratelimit", { rule_name: "r", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 5, token_per_hour: 50 }] }], show_limit_quota_header: true, redis: { service_name: "r.static" } }],
  ["ai-statistics", STATISTICS],
];
const AI_PATHS = ["/v1/chat/completions", "/v1/chat/completions/quota?consumer=u", "/v1/chat/completions/quota/refresh", "/v1/chat/completions/quota/delta", "/v1/responses", "/x/v1/messages"];
const AI_BODIES = [
  '{"model":"qwen-max","messages":[{"role":"user","content":"hi"}]}', '{"model":"m","stream":true,"messages":[]}', "consumer=u&quota=100", "consumer=u&value=-5", "",
];

/** A name of up to 64 KiB from the fuzz alphabet, with dots and escapes, unseen before. */
function hugeName(random: Random): string {
  const length = 1 << random.below(17);
  let out = random.next().toString(36) + ".";
  while (out.length < length) out += ALPHABET[random.below(ALPHABET.length)];
  return out.replace(/[\r\n\0]/g, "_");
}

/** Mutated requests through the AI plugins, whose Redis replies are mutated, random or failed. */
export async function fuzzAiPlugins(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  const redis = new ReplyFuzzer(random);
  const make = (i: number) => createHost({ wasm: pluginWasm(AI_PLUGINS[i][0]), config: AI_PLUGINS[i][1], redis, logLevel: 6 });
  const hosts: Host[] = [];
  for (let p = 0; p < AI_PLUGINS.length; p++) hosts.push(await make(p));
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null };
  for (let i = 0; i < count; i++) {
    const which = i % AI_PLUGINS.length;
    const path = mutate(random, random.pick(AI_PATHS), random.below(3)).replace(/[\r\n\0]/g, "");
    // Now and then a huge or ever-new model and consumer name: labels are capped, never trapped on (item 9).
    const consumer = random.below(16) === 0 ? hugeName(random) : random.pick(["admin", "u", "", "ü"]);
    const body = random.below(16) === 0 ? JSON.stringify({ model: hugeName(random), stream: random.below(2) === 0, messages: [] }) : mutate(random, random.pick(AI_BODIES), random.below(4));
    const headers: Array<[string, string]> = [["x-api-key", mutate(random, "k", random.below(2))], ["content-type", random.pick(["application/json", "application/x-www-form-urlencoded", "text/plain"])]];
    if (random.below(8) !== 0) headers.push(["x-mse-consumer", consumer]);
    const s = hosts[which].newStream().sendRequestHeaders([[":authority", "a.example.com"], [":path", path], [":method", "POST"], [":scheme", "http"], ...headers], body.length === 0);
    if (body.length > 0) s.sendRequestBody(body, true);
    for (let turn = 0; turn < 20 && !s.upstream.ended && s.response() === null; turn++) await new Promise((r) => setImmediate(r));
    if (s.upstream.ended) {
      // Statuses, encodings and endings the metering must survive: an empty answer, a cut-off one
      // (charged from proxy_on_delete, A4), an encoding it cannot read.
      const response: Array<[string, string]> = [[":status", random.pick(["200", "204", "500", "2", "abc"])], ["content-type", random.pick(["application/json", "text/event-stream"])]];
      if (random.below(3) === 0) response.push(["content-encoding", random.pick(["gzip", "br", "deflate", "identity", "GZIP", "", "x, gzip"])]);
      const ending = random.below(6);
      s.sendResponseHeaders(response, ending === 0);
      if (ending !== 0) s.sendResponseBody(mutate(random, random.pick(BODIES), random.below(4)), ending !== 1);
      if (ending === 1) s.reset();
      await new Promise((r) => setImmediate(r));
    }
    result.inputs++;
    if (hosts[which].chain.failed()) {
      result.traps++;
      result.firstTrap ??= JSON.stringify({ plugin: AI_PLUGINS[which][0], path, headers, body });
      hosts[which] = await make(which);
    }
  }
  return result;
}

/** The names the request reader reads (A1), and how Go's encoding/json folds a key to match them. */
const READ_KEYS = ["model", "stream", "stream_options", "include_usage"];
const goFold = (key: string) => key.replace(/\u017f/g, "s").replace(/\u212a/g, "k").toLowerCase();
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Stands for one invalid UTF-8 byte in a generated body (turned into 0xff when the body is encoded). */
const BAD_BYTE = "\ue000";

/** A JSON string literal for `text`, some characters escaped as \uXXXX (either hex case) or a simple escape. */
function spell(random: Random, text: string, escapeOdds: number): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (code > 0xffff || random.below(100) >= escapeOdds) out += ch;
    else if (ch === "/" && random.below(2) === 0) out += "\\/";
    else {
      const hex = code.toString(16).padStart(4, "0");
      out += "\\u" + (random.below(2) === 0 ? hex : hex.toUpperCase());
    }
  }
  return out + '"';
}

/** A key spelled as a client (or an attacker) might: plain, escaped, case-varied, ſ for s, or not valid Unicode. */
function spellKey(random: Random, name: string, tricks: { tricky: boolean }): string {
  const roll = random.below(100);
  if (roll < 60) return spell(random, name, 0);
  if (roll < 94) return spell(random, name, 40);
  tricks.tricky = true;
  const at = random.below(name.length + 1);
  if (roll < 96) return spell(random, name.slice(0, at) + name.slice(at, at + 1).toUpperCase() + name.slice(at + 1), 20);
  if (roll < 97 && name.includes("s")) return spell(random, name.replace("s", "\u017f"), 50);
  if (roll < 99) {
    const raw = spell(random, name, 0);
    return raw.slice(0, at + 1) + random.pick(["\\ud800", "\\udfff", "\\ud83d\\u0041", "\\u12", "\\x"]) + raw.slice(at + 1);
  }
  return spell(random, name.slice(0, at), 0).slice(0, -1) + BAD_BYTE + name.slice(at) + '"';
}

const space = (random: Random) => random.pick(["", "", "", " ", "\n  ", "\t", "\r\n"]);

/** A value for `name`: booleans and their look-alikes for stream and include_usage, objects for stream_options. */
function valueOf(random: Random, name: string, depth: number, tricks: { tricky: boolean }): string {
  if (name === "stream" || name === "include_usage") {
    const value = random.below(12) === 0 ? random.pick(['"true"', "1", "0", "{}"]) : random.pick(["true", "true", "false", "null"]);
    if (name === "stream" && !["true", "false", "null"].includes(value)) tricks.tricky = true;
    return value;
  }
  if (name === "model") return spell(random, random.pick(["qwen-max", "gpt-4o", "模型"]), 30);
  if (name === "stream_options") {
    const roll = random.below(10);
    if (roll === 0) return random.pick(["null", '"x"', "[]", "1"]);
    return objectOf(random, ["include_usage", "include_usage", "x"], depth + 1, tricks);
  }
  return random.pick(['[{"role":"user","content":"Who are you?"}]', "0.7", '{"a":{"stream":false}}', '"str\\u0065am"']);
}

/** An object of 0 to 5 members drawn from `names` (so repeated keys are common), in random spacing. */
function objectOf(random: Random, names: string[], depth: number, tricks: { tricky: boolean }): string {
  const members: string[] = [];
  for (let n = random.below(6); n > 0; n--) {
    const name = random.pick(names);
    members.push(space(random) + spellKey(random, name, tricks) + space(random) + ":" + space(random) + valueOf(random, name, depth, tricks));
  }
  return "{" + members.join(",") + space(random) + "}";
}

/** Encodes the generated body: UTF-8 with BAD_BYTE as 0xff, sometimes UTF-16 or with a byte-order mark. */
function encodeBody(random: Random, text: string, tricks: { tricky: boolean }): Buffer {
  const roll = random.below(40);
  if (roll === 0) {
    tricks.tricky = true;
    return Buffer.from(text.replaceAll(BAD_BYTE, ""), "utf16le");
  }
  const utf8 = Buffer.concat(text.split(BAD_BYTE).flatMap((part, i) => (i === 0 ? [Buffer.from(part)] : [Buffer.from([0xff]), Buffer.from(part)])));
  return roll === 1 ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]) : utf8;
}

/** The body as Python's json.loads reads bytes: the encoding told from the first four bytes, a UTF-8 mark skipped. */
function decodeLikePython(bytes: Buffer): string {
  const [b0, b1, b2, b3] = bytes;
  const wide = bytes.length >= 2 && (b0 === 0 || b1 === 0 || (b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff));
  if (wide) {
    const width = (b0 === 0 && b1 === 0) || (b2 === 0 && b3 === 0 && b1 !== 0xfe) || (b0 === 0xff && b1 === 0xfe && b2 === 0 && b3 === 0) ? 4 : 2;
    const big = b0 === 0 || b0 === 0xfe;
    let out = "";
    for (let at = 0; at + width <= bytes.length; at += width) {
      const unit = width === 2 ? (big ? bytes.readUInt16BE(at) : bytes.readUInt16LE(at)) : big ? bytes.readUInt32BE(at) : bytes.readUInt32LE(at);
      if (unit > 0x10ffff) return "";
      out += String.fromCodePoint(unit);
    }
    return out.replace(/^\ufeff/, "");
  }
  return bytes.toString("utf8").replace(/^\ufeff/, "");
}

/** Why a forwarded body breaks A1, or null: a stream without include_usage, or a key or value upstreams read differently. */
function unmeteredReason(forwarded: Buffer, headers: Array<[string, string]>): string | null {
  const encoding = headers.find(([k]) => k === "content-encoding")?.[1];
  if (encoding && encoding !== "identity") return "a content-encoding went on unread";
  if (/charset=(?!utf-8)/i.test(headers.find(([k]) => k === "content-type")?.[1] ?? "")) return "another charset went on unread";
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeLikePython(forwarded));
  } catch {
    return null;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  if (forwarded[0] === 0 || forwarded[1] === 0 || forwarded[0] >= 0xfe) return "a UTF-16/32 object went on";
  const root = parsed as Record<string, unknown>;
  const options = root.stream_options;
  for (const object of [root, options && typeof options === "object" ? (options as Record<string, unknown>) : {}]) {
    for (const key of Object.keys(object)) {
      if (LONE_SURROGATE.test(key)) return `a key with a lone surrogate went on: ${JSON.stringify(key)}`;
      // Generated bodies hold U+FFFD only where a BAD_BYTE was: invalid UTF-8 decoded.
      if (key.includes("\ufffd")) return `a key with invalid UTF-8 went on: ${JSON.stringify(key)}`;
      if (READ_KEYS.includes(goFold(key)) && !READ_KEYS.includes(key)) return `a case-folded key went on: ${key}`;
    }
  }
  if (root.stream !== undefined && typeof root.stream !== "boolean" && root.stream !== null) return "a non-boolean stream went on";
  if (root.stream === true && (options as { include_usage?: unknown } | undefined)?.include_usage !== true) return "a stream went on without include_usage";
  return null;
}

/**
 * Request bodies with escaped, repeated, case-folded and invalid keys, non-boolean streams, wide
 * encodings, charsets and content-encodings, cut into random chunks, through both AI plugins
 * (Redis unreachable and failing open, so what is not refused goes upstream). The oracle: every
 * forwarded streaming request asks for usage as JSON.parse reads it, nothing an upstream could
 * read differently goes on, and a plain body is never refused.
 */
export async function fuzzRequestBodies(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  const redis = new RedisBridge({});
  const plugins: Array<[string, object]> = [
    ["ai-quota", { admin_consumer: "admin", failure_mode_deny: false, redis: { service_name: "nowhere.static" } }],
    ["ai-token-ratelimit", { rule_name: "r", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 5 }] }], redis: { service_name: "nowhere.static" } }],
  ];
  const make = (i: number) => createHost({ wasm: pluginWasm(plugins[i][0]), config: plugins[i][1], redis, logLevel: 6 });
  const hosts = [await make(0), await make(1)];
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null, misses: 0, firstMiss: null };
  for (let i = 0; i < count; i++) {
    const which = i % 2;
    const tricks = { tricky: false };
    let text = space(random) + objectOf(random, ["model", "stream", "stream", "stream_options", "stream_options", "messages", "x"], 0, tricks);
    const mutated = random.below(8) === 0;
    // A mutation may split a surrogate pair: that half is dropped, so U+FFFD only ever stands for a BAD_BYTE.
    if (mutated) text = mutate(random, text, 1 + random.below(3)).replace(new RegExp(LONE_SURROGATE, "g"), "");
    let body = encodeBody(random, text, tricks);
    const headers: Array<[string, string]> = [["x-mse-consumer", "u"], ["x-api-key", "k"]];
    const type = random.below(20) === 0 ? "application/json; charset=utf-16" : random.pick(["application/json", "application/json", "text/plain", "", "application/json; charset=utf-8"]);
    if (type) headers.push(["content-type", type]);
    if (type.includes("utf-16")) tricks.tricky = true;
    if (random.below(30) === 0) {
      tricks.tricky = true;
      headers.push(["content-encoding", "gzip"]);
      if (random.below(2) === 0) body = gzipSync(body);
    }
    const s = hosts[which].newStream().sendRequestHeaders([[":authority", "a.example.com"], [":path", "/v1/chat/completions"], [":method", "POST"], [":scheme", "http"], ...headers], false);
    for (let at = 0; at < body.length || at === 0; ) {
      const size = 1 + random.below(random.below(4) === 0 ? 8 : body.length + 1);
      s.sendRequestBody(body.subarray(at, at + size), at + size >= body.length);
      at += size;
    }
    for (let turn = 0; turn < 20 && !s.upstream.ended && s.response() === null; turn++) await new Promise((r) => setImmediate(r));
    result.inputs++;
    const answered = s.response();
    const reason = s.upstream.ended ? unmeteredReason(Buffer.concat(s.upstream.chunks), headers)
      : answered?.status === 400 && !tricks.tricky && !mutated ? `a plain body was refused: ${answered.body}`
        : answered === null ? "neither forwarded nor answered" : null;
    if (reason !== null) {
      result.misses!++;
      result.firstMiss ??= `${plugins[which][0]}: ${reason}; body ${JSON.stringify(body.toString("latin1"))}, headers ${JSON.stringify(headers)}`;
    }
    if (hosts[which].chain.failed()) {
      result.traps++;
      result.firstTrap ??= JSON.stringify({ plugin: plugins[which][0], headers, body: body.toString("latin1") });
      hosts[which] = await make(which);
    }
  }
  await redis.close();
  return result;
}

/** Stands in for Redis in the path fuzzer only: every GET finds a quota of 0. */
class NoQuota extends RedisBridge {
  constructor() {
    super({});
  }
  init(): number {
    return 0;
  }
  call(_cluster: string, _query: Uint8Array, onReply: (status: 0 | 1, reply: Uint8Array) => void): number {
    setImmediate(() => onReply(0, Buffer.from("$1\r\n0\r\n")));
    return 0;
  }
}

const LLM_PATHS = [
  "/v1/chat/completions", "/v1/completions", "/v1/responses", "/v1/messages", "/v1/embeddings", "/api/chat", "/api/generate",
  "/openai/deployments/gpt-4o/chat/completions", "/v1beta/models/gemini-pro:generateContent", "/v1/models", "/v1/chat/completions/quota",
  "/v1/chat/completions/quota/refresh", "/v1/chat/completions/quota/delta",
];

/** An LLM or admin path spelled as a normalising upstream still serves it: case, slashes, `;` parameters, escapes, dot segments, queries. */
function spellPath(random: Random): string {
  let path = random.pick(["", "", "/api", "/openai", "/x/y"]) + random.pick(LLM_PATHS);
  for (let n = random.below(4); n > 0; n--) {
    const at = random.below(path.length);
    switch (random.below(8)) {
      case 0: path = path.slice(0, at) + path.charAt(at).toUpperCase() + path.slice(at + 1); break;
      case 1: path = path.replace(/\//g, (slash) => (random.below(4) === 0 ? "//" : slash)); break;
      case 2: path += random.pick(["/", ";x=1", "/.", "%2F", "?api-version=1", "#f", ";"]); break;
      case 3: path = path.slice(0, at) + "%" + path.charCodeAt(at).toString(16).padStart(2, "0") + path.slice(at + 1); break;
      case 4: path = path.replace("/", random.pick(["/./", "/a/../", "/;p/"])); break;
      case 5: path = path.toUpperCase(); break;
      default: path = mutate(random, path, 1).replace(/[\r\n\0 ]/g, "");
    }
  }
  return path.startsWith("/") ? path : "/" + path;
}

/**
 * Path spellings through ai-quota for a consumer whose quota is 0 (and who is not the admin).
 * The oracle: nothing ever reaches the upstream, whatever the path (Q2); the admin API refuses
 * the consumer, every other path answers "No quota left".
 */
export async function fuzzQuotaPaths(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  const redis = new NoQuota();
  const config = { admin_consumer: "admin", redis: { service_name: "r.static" } };
  let host: Host = await createHost({ wasm: pluginWasm("ai-quota"), config, redis, logLevel: 6 });
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null, misses: 0, firstMiss: null };
  for (let i = 0; i < count; i++) {
    const path = spellPath(random);
    const withBody = random.below(2) === 0;
    const s = host.newStream().sendRequestHeaders([[":authority", "a.example.com"], [":path", path], [":method", withBody ? "POST" : "GET"], [":scheme", "http"], ["x-mse-consumer", "u"]], !withBody);
    if (withBody) s.sendRequestBody(random.pick(['{"model":"m","stream":true}', "consumer=u&quota=9", "x"]), true);
    for (let turn = 0; turn < 20 && !s.upstream.ended && s.response() === null; turn++) await new Promise((r) => setImmediate(r));
    result.inputs++;
    const answered = s.response();
    if (s.upstream.headers !== null || answered?.status !== 403) {
      result.misses!++;
      result.firstMiss ??= `${path}: ${s.upstream.headers !== null ? "forwarded" : `answered ${answered?.status ?? "nothing"}`}`;
    }
    if (host.chain.failed()) {
      result.traps++;
      result.firstTrap ??= path;
      host = await createHost({ wasm: pluginWasm("ai-quota"), config, redis, logLevel: 6 });
    }
  }
  return result;
}
