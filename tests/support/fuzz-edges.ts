/**
 * Fuzz targets for the edges of issue 15 that have an answer to check, not only "no trap": host
 * spellings against `_match_domain_` rules (G9), huge numbers in configurations and in the quota
 * admin API (G7). Each counts traps, and `misses`: inputs answered otherwise than the rule says.
 */
import { createHost, type Host } from "../../host/direct.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";
import { pluginWasm } from "./paths.ts";
import { Random, mutate, type FuzzResult } from "./fuzz.ts";

export interface CheckedFuzzResult extends FuzzResult {
  misses: number;
  /** The first input answered wrongly, with what was expected. */
  firstMiss: string | null;
}

const MAX_EXACT = 2n ** 53n - 1n;

function result(): CheckedFuzzResult {
  return { inputs: 0, traps: 0, firstTrap: null, misses: 0, firstMiss: null };
}

function miss(r: CheckedFuzzResult, what: string): void {
  r.misses++;
  r.firstMiss ??= what;
}

/** `host` with every letter's case picked at random. */
function randomCase(random: Random, host: string): string {
  return [...host].map((c) => (random.below(2) === 0 ? c.toUpperCase() : c.toLowerCase())).join("");
}

/** A spelling of `host` that Envoy routes as `host`: any case, maybe the trailing dot of an absolute name, maybe a port. */
function spell(random: Random, host: string): string {
  let out = randomCase(random, host);
  if (!host.startsWith("[") && random.below(3) === 0) out += ".";
  if (random.below(2) === 0) out += ":" + random.pick(["80", "443", "8080", "1", "65535", ""]);
  return out;
}

/** Rule domains (patterns spelled at random) and a host each one must match. */
const DOMAINS: Array<[pattern: string, host: (random: Random) => string]> = [
  ["api.example.com", () => "api.example.com"],
  ["*.example.org", (r) => r.pick(["a", "x.y", "api-7", "xn--bcher-kva"]) + ".example.org"],
  ["admin.*", (r) => "admin." + r.pick(["internal", "corp.test", "x"])],
  ["[::1]", () => "[::1]"],
];
const OTHER_HOSTS = ["example.org", "api.example.com.evil", "apiXexample.com", "[::2]:80", "other.test", "", ":", "[", "]:80"];

/**
 * key-auth with `global_auth: false` and one `_match_domain_` rule per pattern: a request without a
 * key to any spelling of a rule's host must be 401; any other host passes untouched.
 */
export async function fuzzHostSpellings(seed: number, count: number): Promise<CheckedFuzzResult> {
  const random = new Random(seed);
  const config = {
    keys: ["x-api-key"], in_header: true, global_auth: false, consumers: [{ name: "a", credential: "k1" }],
    _rules_: DOMAINS.map(([pattern]) => ({ _match_domain_: [randomCase(random, pattern)], allow: ["a"] })),
  };
  const make = () => createHost({ wasm: pluginWasm("key-auth"), config, logLevel: 6 });
  let host: Host = await make();
  const r = result();
  for (let i = 0; i < count; i++) {
    const ruled = random.below(3) !== 0;
    const authority = ruled ? spell(random, random.pick(DOMAINS)[1](random)) : mutate(random, random.pick(OTHER_HOSTS), random.below(3)).replace(/[\r\n\0]/g, "");
    const withKey = random.below(4) === 0;
    const s = host.newStream().sendRequestHeaders([[":authority", authority], [":path", "/v1/chat/completions"], [":method", "GET"], [":scheme", "http"], ...(withKey ? [["x-api-key", "k1"] as [string, string]] : [])], true);
    s.sendResponseHeaders([[":status", "200"]], true);
    r.inputs++;
    if (host.chain.failed()) {
      r.traps++;
      r.firstTrap ??= JSON.stringify({ authority, config });
      host = await make();
      continue;
    }
    const status = s.response()?.status;
    if (ruled && !withKey && status !== 401) miss(r, `Host ${JSON.stringify(authority)} without a key got ${status}, not 401 (rules ${JSON.stringify(config._rules_)})`);
    if (ruled && withKey && s.upstreamHeader("x-mse-consumer")[0] !== "a") miss(r, `Host ${JSON.stringify(authority)} with a valid key was not forwarded as consumer a`);
  }
  return r;
}

/** Numbers no reader holds exactly, and some it does, as JSON literals. */
const HUGE = [
  "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616", "1e19", "-1e19", "1e300", "-1e300",
  "9007199254740992", "9007199254740993", "-9007199254740992", "9007199254740991", "-9007199254740991", "1e16", "99999999999999999999999999",
  "1e-400", "4503599627370496.5",
];

function hugeNumber(random: Random): string {
  if (random.below(3) !== 0) return random.pick(HUGE);
  // Random digits around and past 2^53 (16 digits) and i64 (19 digits).
  const digits = 15 + random.below(15);
  let out = String(1 + random.below(9));
  for (let d = 1; d < digits; d++) out += String(random.below(10));
  return (random.below(4) === 0 ? "-" : "") + out;
}

/** Whether a JSON number literal is an integer past ±(2^53 - 1) (an exponent counts by its value). */
function pastExact(literal: string): boolean {
  const value = /^-?\d+$/.test(literal) ? BigInt(literal) : null;
  if (value !== null) return value > MAX_EXACT || value < -MAX_EXACT;
  return Math.abs(Number(literal)) >= 2 ** 53;
}

const NUMBER_CONFIGS: Array<[string, object]> = [
  ["ai-token-ratelimit", { rule_name: "r", global_threshold: { token_per_minute: 5, token_per_day: 500 }, rejected_code: 429, redis: { service_name: "r.static", service_port: 6379, timeout: 100, database: 1 } }],
  ["ai-token-ratelimit", { rule_name: "r", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_second: 9, token_per_hour: 90 }] }], redis: { service_name: "r.static" }, _rules_: [{ _match_domain_: ["a.test"], rule_name: "s", global_threshold: { token_per_minute: 7 }, redis: { service_name: "r.static", timeout: 5 } }] }],
  ["ai-quota", { admin_consumer: "admin", redis: { service_name: "r.static", service_port: 80, timeout: 10, database: 2 } }],
];

/**
 * One integer field of a valid configuration replaced by a huge number (sometimes as a numeric
 * string, which Higress's lenient reading accepts): past ±(2^53 - 1) configure must refuse, with
 * the field's name in the error line.
 */
export async function fuzzConfigNumbers(seed: number, count: number): Promise<CheckedFuzzResult> {
  const random = new Random(seed);
  const r = result();
  for (let i = 0; i < count; i++) {
    const [plugin, config] = random.pick(NUMBER_CONFIGS);
    const text = JSON.stringify(config);
    const fields = [...text.matchAll(/"(\w+)":(-?\d+)/g)];
    const field = random.pick(fields);
    const literal = hugeNumber(random);
    const quoted = random.below(4) === 0 && /^-?\d+$/.test(literal);
    const at = field.index! + field[0].length - field[2].length;
    const mutated = text.slice(0, at) + (quoted ? `"${literal}"` : literal) + text.slice(at + field[2].length);
    r.inputs++;
    let refusal: string | null = null;
    try {
      // Error level, so the refusal's own line is in the message.
      await createHost({ name: plugin, wasm: pluginWasm(plugin), config: mutated, logLevel: 4 });
    } catch (e) {
      const message = String((e as Error).message);
      if (/Wasm VM failed: /.test(message)) {
        r.traps++;
        r.firstTrap ??= `${plugin}: ${mutated}`;
        continue;
      }
      refusal = message;
    }
    if (pastExact(literal) && (refusal === null || !refusal.includes(field[1]))) {
      miss(r, `${plugin}: ${field[1]}: ${quoted ? `"${literal}"` : literal} was ${refusal === null ? "accepted" : `refused without naming the field: ${refusal}`}`);
    }
  }
  return r;
}

/** Records every Redis command and answers it on a later turn, as a write that succeeded. */
class RecordingRedis extends RedisBridge {
  commands: string[] = [];
  constructor() {
    super({});
  }
  init(): number {
    return 0;
  }
  call(_cluster: string, query: Uint8Array, onReply: (status: 0 | 1, reply: Uint8Array) => void): number {
    const text = Buffer.from(query).toString("latin1");
    this.commands.push(text);
    setImmediate(() => onReply(0, Buffer.from(text.includes("incrby") || text.includes("decrby") ? ":5\r\n" : "+OK\r\n")));
    return 0;
  }
}

/**
 * Quota refreshes and deltas with numbers at and past ±(2^53 - 1) and int64: a value within
 * ±(2^53 - 1) is written as itself; anything else gets the 403 and sends nothing to Redis.
 */
export async function fuzzAdminNumbers(seed: number, count: number): Promise<CheckedFuzzResult> {
  const random = new Random(seed);
  const redis = new RecordingRedis();
  const make = () => createHost({ wasm: pluginWasm("ai-quota"), config: { admin_consumer: "admin", redis: { service_name: "r.static" } }, redis, logLevel: 6 });
  let host: Host = await make();
  const r = result();
  for (let i = 0; i < count; i++) {
    const refresh = random.below(2) === 0;
    // Mutated numbers keep to printable ASCII: a lone surrogate cannot be form-encoded.
    let number = random.below(3) === 0 ? mutate(random, hugeNumber(random), 1 + random.below(2)).replace(/[^\x20-\x7e]/g, "") : hugeNumber(random);
    if (random.below(5) === 0) number = random.pick(["+", "0", "00"]) + number.replace(/^-/, "");
    const body = `consumer=u&${refresh ? "quota" : "value"}=${encodeURIComponent(number)}`;
    const before = redis.commands.length;
    const s = host.newStream().sendRequestHeaders([[":authority", "a.test"], [":path", `/v1/chat/completions/quota/${refresh ? "refresh" : "delta"}`], [":method", "POST"], [":scheme", "http"], ["x-mse-consumer", "admin"]]);
    s.sendRequestBody(body, true);
    for (let turn = 0; turn < 20 && s.response() === null; turn++) await new Promise((resolve) => setImmediate(resolve));
    r.inputs++;
    if (host.chain.failed()) {
      r.traps++;
      r.firstTrap ??= body;
      host = await make();
      continue;
    }
    const status = s.response()?.status;
    const exact = /^[+-]?\d+$/.test(number) && BigInt(number) <= MAX_EXACT && BigInt(number) >= -MAX_EXACT;
    const sent = redis.commands.slice(before).join(" ");
    if (exact) {
      const value = BigInt(number);
      const expected = refresh ? value : value < 0n ? -value : value;
      if (status !== 200 || !sent.includes(`\r\n${expected}\r\n`)) miss(r, `${body}: expected 200 and ${expected} written, got ${status} after ${JSON.stringify(sent)}`);
    } else if (status !== 403 || sent.length > 0) {
      miss(r, `${body}: expected 403 and nothing sent, got ${status} after ${JSON.stringify(sent)}`);
    }
  }
  return r;
}
