/**
 * Fuzz targets shared by `npm run fuzz` and the fixed-seed slice in the tests: each feeds mutated
 * or random input to a built plugin in the host and counts traps (a trap fails the whole VM).
 */
import { createHost, GET, type Host } from "../host/direct.ts";
import { pluginWasm, probeWasm } from "./paths.ts";

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
}

const KEY_AUTH = {
  keys: ["x-api-key", "apikey", "authorization"],
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

/** Mutated and random response bodies, cut at random points, through the token-usage reader. */
export async function fuzzBodies(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  let host: Host = await createHost({ wasm: probeWasm("usage"), logLevel: 6 });
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null };
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(random.below(8) === 0 ? Array.from({ length: random.below(300) }, () => String.fromCharCode(random.below(256))).join("") : mutate(random, random.pick(BODIES), random.below(8)), "latin1");
    const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions"), true);
    s.sendResponseHeaders([[":status", "200"], ["content-type", random.pick(["application/json", "text/event-stream"])]]);
    for (let at = 0; at < body.length; ) {
      const size = 1 + random.below(40);
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

const CONFIGS: Array<[string, object]> = [
  ["key-auth", KEY_AUTH],
  ["ai-quota", { admin_consumer: "admin", redis: { service_name: "r.static", timeout: 10, database: 1 } }],
  ["ai-token-ratelimit", { rule_name: "r", rule_items: [{ limit_by_per_ip: "from-header-x-real-ip", limit_keys: [{ key: "10.0.0.0/8", token_per_minute: 5 }] }, { limit_by_per_param: "k", limit_keys: [{ key: "regexp:^(a|b)+$", token_per_hour: 9 }] }], redis: { service_name: "r.static" } }],
];

/** Mutated configuration text: configure may refuse it, but must never trap. */
export async function fuzzConfigs(seed: number, count: number): Promise<FuzzResult> {
  const random = new Random(seed);
  const result: FuzzResult = { inputs: 0, traps: 0, firstTrap: null };
  for (let i = 0; i < count; i++) {
    const [name, config] = random.pick(CONFIGS);
    const text = mutate(random, JSON.stringify(config), 1 + random.below(4));
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
