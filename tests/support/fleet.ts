/**
 * Several gateways, one Redis (issue 9): host gateway processes with the three plugins in front
 * of one redis-server, many concurrent clients mixing streamed and plain chats. Each client adds
 * up the usage the answers report (for a stream whose usage event the gateway asked for and then
 * removed, decision A1, the usage the upstream reported in it); afterwards the Redis counters are
 * compared with those sums.
 *
 * A run is in one of two modes (issue 19): `reserve: false` is Higress's check-then-charge, where
 * every request in flight when a budget is reached is served past it; `reserve: true` turns on
 * reserve_tokens in both AI plugins, so a budget is passed only by what a reservation
 * underestimated. Every request sets max_tokens at or above the completion tokens the upstream
 * reports, and its body's bytes / 4 are at least the upstream's prompt count (a word count), so
 * no reservation underestimates and, with the option on, nothing is served past any budget.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import http from "node:http";
import YAML from "yaml";
import { startRedis } from "./redis.ts";
import { startUpstream } from "./upstream.ts";
import { pluginWasm, repoRoot } from "./paths.ts";
import { waitFor } from "./net.ts";
import { sourceReply } from "./source-constants.ts";

/** Consumers with a limit and a quota no run reaches (their counters must equal the usage exactly)… */
export const FREE = ["free-0", "free-1", "free-2", "free-3"];
/** …with a tight rate limit (passed, without reservations, only by what was in flight)… */
export const TIGHT_LIMIT_CONSUMERS = ["tight-limit-0", "tight-limit-1"];
/** …and with a tight quota (likewise). */
export const TIGHT_QUOTA_CONSUMERS = ["tight-quota-0", "tight-quota-1"];
export const CONSUMERS = [...FREE, ...TIGHT_LIMIT_CONSUMERS, ...TIGHT_QUOTA_CONSUMERS];
export const TIGHT_LIMIT = 300;
export const TIGHT_QUOTA = 300;
const QUOTA_START = 1_000_000_000;
const COMPLETION_TOKENS = 12;
/** What the plugins reserve per request body byte (estimate_bytes_per_token, the default 4). */
const BYTES_PER_TOKEN = 4;
const REDIS = { service_name: "fleet-redis.static" };
const RATE_LIMITED = sourceReply("plugins/ai-token-ratelimit/errors.ts", "RATE_LIMITED");
const NO_QUOTA = sourceReply("plugins/ai-quota/errors.ts", "NO_QUOTA");
/** A plugin's or the router's log line at warn or above (the gateways log at warn): a check, charge or settle that did not reach Redis, a reset. */
const WARNING = /^\[(warn|error|critical)\] .*$/gm;
const keyOf = (consumer: string) => `key-${consumer}`;
export const limitKey = (consumer: string) => `higress-token-ratelimit:fleet:limit_by_per_header:60:x-api-key:${keyOf(consumer)}`;
export const quotaKey = (consumer: string) => `chat_quota:${consumer}`;
const quotaOf = (consumer: string) => (TIGHT_QUOTA_CONSUMERS.includes(consumer) ? TIGHT_QUOTA : QUOTA_START);

export interface ConsumerTally {
  /** Usage reported to the client by answers that completed with 200. */
  usage: number;
  ok: number;
  /** ai-token-ratelimit's 429 and ai-quota's 403 No quota left, as the plugins define them. */
  rateLimited: number;
  noQuota: number;
  other: number;
  /** The largest single usage seen, for the overshoot bound without reservations. */
  maxUsage: number;
  /** The largest usage beyond its request's reservation (0 when none underestimated), for the bound with them. */
  maxShortfall: number;
  clients: number;
}

export interface FleetResult {
  reserve: boolean;
  requests: number;
  seconds: number;
  tally: Record<string, ConsumerTally>;
  /** From Redis after the run. */
  counters: Record<string, number | null>;
  quotas: Record<string, number>;
  trapped: boolean;
  /** The gateways' warnings (none in a healthy run: a check that fails open would pass a budget unreserved). */
  warnings: string[];
}

/** A tight consumer's budget after a run: what it is, what was served beyond it, and the most that may be. */
export interface Overshoot {
  budget: number;
  over: number;
  /**
   * The requests in flight when the budget was reached, one per client: without reservations each
   * may use up to the largest usage seen; with them, only what its reservation underestimated.
   */
  bound: number;
}

export function overshootOf(result: FleetResult, consumer: string): Overshoot {
  const t = result.tally[consumer];
  const budget = TIGHT_QUOTA_CONSUMERS.includes(consumer) ? TIGHT_QUOTA : TIGHT_LIMIT;
  return { budget, over: Math.max(0, t.usage - budget), bound: t.clients * (result.reserve ? t.maxShortfall : t.maxUsage) };
}

/** What each plugin reserves for `body`: its bytes / 4, rounded up, plus its max_tokens (n is 1). */
function reservationOf(body: string, maxTokens: number): number {
  return Math.ceil(Buffer.byteLength(body) / BYTES_PER_TOKEN) + maxTokens;
}

interface GatewayProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

async function spawnGateway(file: string): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", `${repoRoot}host/cli.ts`, file], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (c) => (output += c));
  child.stderr!.on("data", (c) => (output += c));
  await waitFor(() => /listening on http:\/\/\S+/.test(output) || child.exitCode !== null, 20000);
  const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
  if (!url) throw new Error(`gateway did not start: ${output}`);
  return { child, url, output: () => output };
}

/** Usage an answer reports: the JSON body's usage, or the last SSE event that carries one. */
function reportedUsage(body: string): number {
  const total = (u: { prompt_tokens?: number; completion_tokens?: number } | null | undefined) => (u ? (u.prompt_tokens ?? 0) + (u.completion_tokens ?? 0) : 0);
  if (body.startsWith("{")) return total(JSON.parse(body).usage);
  let found = 0;
  for (const line of body.split("\n")) {
    if (!line.startsWith("data: {")) continue;
    const usage = JSON.parse(line.slice(6)).usage;
    if (usage) found = total(usage);
  }
  return found;
}

function post(url: string, agent: http.Agent, key: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(`${url}/v1/chat/completions`, { method: "POST", agent, headers: { "x-api-key": key, "content-type": "application/json" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", () => resolve({ status: 0, body: "" }));
    });
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.end(body);
  });
}

export async function runFleet(options: { gateways: number; clients: number; seconds: number; reserve: boolean }): Promise<FleetResult> {
  const redis = await startRedis();
  const upstream = await startUpstream({ completionTokens: COMPLETION_TOKENS });
  const dir = mkdtempSync(join(tmpdir(), "fleet-"));
  for (const c of CONSUMERS) await redis.client.set(quotaKey(c), quotaOf(c));
  const usage = { reserve_tokens: options.reserve };
  const config = {
    log_level: 3,
    clusters: { llm: { url: upstream.url }, "outbound|80||fleet-redis.static": { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "fleet", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: CONSUMERS.map((name) => ({ name, credential: keyOf(name) })) } },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "fleet-admin", redis: REDIS, ...usage } },
      {
        name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: {
          rule_name: "fleet", redis: REDIS, ...usage,
          rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "regexp:^key-tight-limit-", token_per_minute: TIGHT_LIMIT }, { key: "*", token_per_minute: 1_000_000_000_000 }] }],
        },
      },
    ],
  };
  const file = join(dir, "gateway.yaml");
  writeFileSync(file, YAML.stringify(config));
  const gateways: GatewayProcess[] = [];
  try {
    for (let i = 0; i < options.gateways; i++) gateways.push(await spawnGateway(file));
    const tally: Record<string, ConsumerTally> = {};
    for (const c of CONSUMERS) tally[c] = { usage: 0, ok: 0, rateLimited: 0, noQuota: 0, other: 0, maxUsage: 0, maxShortfall: 0, clients: 0 };
    let requests = 0;
    const started = Date.now();
    const deadline = started + options.seconds * 1000;
    const client = async (n: number) => {
      const consumer = CONSUMERS[n % CONSUMERS.length];
      const gateway = gateways[n % gateways.length];
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      tally[consumer].clients++;
      for (let i = 0; Date.now() < deadline; i++) {
        // A plain chat, a stream that asks for usage, a stream whose usage the gateway asks for.
        const kind = (n + i) % 3;
        const streamOptions = kind === 1 ? { stream_options: { include_usage: true } } : {};
        // At or above the completion tokens the upstream reports, by varying margins the settle gives back.
        const maxTokens = COMPLETION_TOKENS + 8 * ((n + i) % 4);
        const body = JSON.stringify({ model: "qwen-max", stream: kind !== 0, ...streamOptions, max_tokens: maxTokens, messages: [{ role: "user", content: `question ${n} ${i}` }] });
        const answer = await post(gateway.url, agent, keyOf(consumer), body);
        requests++;
        const t = tally[consumer];
        if (answer.status === 200) {
          // The client is not told the usage the gateway asked for: the upstream's report counts.
          const usage = kind === 2 ? upstream.promptTokens(body) + COMPLETION_TOKENS : reportedUsage(answer.body);
          t.usage += usage;
          t.maxUsage = Math.max(t.maxUsage, usage);
          t.maxShortfall = Math.max(t.maxShortfall, usage - reservationOf(body, maxTokens));
          t.ok++;
        } else if (answer.status === RATE_LIMITED.status && answer.body === RATE_LIMITED.body) t.rateLimited++;
        else if (answer.status === NO_QUOTA.status && answer.body === NO_QUOTA.body) t.noQuota++;
        else t.other++;
      }
      agent.destroy();
    };
    await Promise.all(Array.from({ length: options.clients }, (_, n) => client(n)));
    const seconds = (Date.now() - started) / 1000;
    // Charges and settles are sent as each response ends: read until two reads 200 ms apart agree (at most 10 s).
    const read = async () => {
      const counters: Record<string, number | null> = {};
      const quotas: Record<string, number> = {};
      for (const c of CONSUMERS) {
        const counter = await redis.client.get(limitKey(c));
        counters[c] = counter === null ? null : Number(counter);
        quotas[c] = Number(await redis.client.get(quotaKey(c)));
      }
      return { counters, quotas };
    };
    let state = await read();
    for (const settleBy = Date.now() + 10_000; Date.now() < settleBy; ) {
      await new Promise((r) => setTimeout(r, 200));
      const again = await read();
      const same = JSON.stringify(again) === JSON.stringify(state);
      state = again;
      if (same) break;
    }
    const { counters, quotas } = state;
    const trapped = gateways.some((g) => /Wasm VM failed/.test(g.output()));
    const warnings = gateways.flatMap((g) => g.output().match(WARNING) ?? []);
    return { reserve: options.reserve, requests, seconds, tally, counters, quotas, trapped, warnings };
  } finally {
    for (const g of gateways) {
      const exited = new Promise((r) => g.child.once("exit", r));
      g.child.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    await upstream.close();
    await redis.stop();
  }
}

/** What a run took from a consumer's quota. */
export function quotaSpent(result: FleetResult, consumer: string): number {
  return quotaOf(consumer) - result.quotas[consumer];
}

/**
 * Every way a run breaks the fleet's guarantees, in words (none when it holds): no trap or
 * warning; only 200, ai-token-ratelimit's 429 and ai-quota's 403; every counter and quota equal
 * to the usage the clients were told (no reservation left outstanding); each tight budget reached,
 * by its own plugin only, and passed by no more than its bound (0 with reservations, since no
 * request's reservation is below its usage).
 */
export function fleetMismatches(result: FleetResult): string[] {
  const out: string[] = [];
  if (result.trapped) out.push("a VM trapped");
  if (result.warnings.length > 0) out.push(`${result.warnings.length} gateway warnings, the first: ${result.warnings[0]}`);
  for (const c of CONSUMERS) {
    const t = result.tally[c];
    if (t.other > 0) out.push(`${c}: ${t.other} answers other than 200, 429 and 403`);
    if (quotaSpent(result, c) !== t.usage) out.push(`${c}: quota spent ${quotaSpent(result, c)} ≠ usage told ${t.usage}`);
    // Every token served is counted, also past a limit (R1 amended).
    if ((result.counters[c] ?? 0) !== t.usage) out.push(`${c}: rate-limit counter ${result.counters[c]} ≠ usage told ${t.usage}`);
    const limitedBy = TIGHT_LIMIT_CONSUMERS.includes(c) ? "limit" : TIGHT_QUOTA_CONSUMERS.includes(c) ? "quota" : null;
    if (limitedBy !== "limit" && t.rateLimited > 0) out.push(`${c}: ${t.rateLimited} answered 429 on a limit it cannot reach`);
    if (limitedBy !== "quota" && t.noQuota > 0) out.push(`${c}: ${t.noQuota} answered 403 on a quota it cannot reach`);
    if (limitedBy === null) continue;
    if ((limitedBy === "limit" ? t.rateLimited : t.noQuota) === 0) out.push(`${c}: its tight ${limitedBy} was never reached`);
    const o = overshootOf(result, c);
    if (o.over > o.bound) out.push(`${c}: served ${o.over} beyond its ${limitedBy} of ${o.budget}, bound ${o.bound}`);
    if (result.reserve && t.maxShortfall > 0) out.push(`${c}: a reservation was ${t.maxShortfall} below its request's usage`);
  }
  return out;
}
