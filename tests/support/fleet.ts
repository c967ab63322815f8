/**
 * Several gateways, one Redis (issue 9): host gateway processes with the three plugins in front
 * of one redis-server, many concurrent clients mixing streamed and plain chats. Each client adds
 * up the usage the answers report (for a stream whose usage event the gateway asked for and then
 * removed, decision A1, the usage the upstream reported in it); afterwards the Redis counters are
 * compared with those sums.
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

/** Consumers with a limit no run reaches (their counters must equal the usage exactly)… */
export const FREE = ["free-0", "free-1", "free-2", "free-3"];
/** …and with a tight one (their counters may pass it only by what was in flight). */
export const TIGHT = ["tight-0", "tight-1"];
export const TIGHT_LIMIT = 300;
const QUOTA_START = 1_000_000_000;
const COMPLETION_TOKENS = 12;
const REDIS = { service_name: "fleet-redis.static" };
const keyOf = (consumer: string) => `key-${consumer}`;
export const limitKey = (consumer: string) => `higress-token-ratelimit:fleet:limit_by_per_header:60:x-api-key:${keyOf(consumer)}`;
export const quotaKey = (consumer: string) => `chat_quota:${consumer}`;

export interface ConsumerTally {
  /** Usage reported to the client by answers that completed with 200. */
  usage: number;
  ok: number;
  rejected: number;
  other: number;
  /** The largest single usage seen, for the overshoot bound. */
  maxUsage: number;
  clients: number;
}

export interface FleetResult {
  requests: number;
  seconds: number;
  tally: Record<string, ConsumerTally>;
  /** From Redis after the run. */
  counters: Record<string, number | null>;
  quotas: Record<string, number>;
  quotaStart: number;
  trapped: boolean;
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

export async function runFleet(options: { gateways: number; clients: number; seconds: number }): Promise<FleetResult> {
  const redis = await startRedis();
  const upstream = await startUpstream({ completionTokens: COMPLETION_TOKENS });
  const dir = mkdtempSync(join(tmpdir(), "fleet-"));
  const consumers = [...FREE, ...TIGHT];
  for (const c of consumers) await redis.client.set(quotaKey(c), QUOTA_START);
  const config = {
    log_level: 3,
    clusters: { llm: { url: upstream.url }, "outbound|80||fleet-redis.static": { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "fleet", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: consumers.map((name) => ({ name, credential: keyOf(name) })) } },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "fleet-admin", redis: REDIS } },
      {
        name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: {
          rule_name: "fleet", redis: REDIS,
          rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "regexp:^key-tight-", token_per_minute: TIGHT_LIMIT }, { key: "*", token_per_minute: 1_000_000_000_000 }] }],
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
    for (const c of consumers) tally[c] = { usage: 0, ok: 0, rejected: 0, other: 0, maxUsage: 0, clients: 0 };
    let requests = 0;
    const started = Date.now();
    const deadline = started + options.seconds * 1000;
    const client = async (n: number) => {
      const consumer = consumers[n % consumers.length];
      const gateway = gateways[n % gateways.length];
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      tally[consumer].clients++;
      for (let i = 0; Date.now() < deadline; i++) {
        // A plain chat, a stream that asks for usage, a stream whose usage the gateway asks for.
        const kind = (n + i) % 3;
        const options = kind === 1 ? { stream_options: { include_usage: true } } : {};
        const body = JSON.stringify({ model: "qwen-max", stream: kind !== 0, ...options, messages: [{ role: "user", content: `question ${n} ${i}` }] });
        const answer = await post(gateway.url, agent, keyOf(consumer), body);
        requests++;
        const t = tally[consumer];
        if (answer.status === 200) {
          // The client is not told the usage the gateway asked for: the upstream's report counts.
          const usage = kind === 2 ? upstream.promptTokens(body) + COMPLETION_TOKENS : reportedUsage(answer.body);
          t.usage += usage;
          t.maxUsage = Math.max(t.maxUsage, usage);
          t.ok++;
        } else if (answer.status === 429) t.rejected++;
        else t.other++;
      }
      agent.destroy();
    };
    await Promise.all(Array.from({ length: options.clients }, (_, n) => client(n)));
    const seconds = (Date.now() - started) / 1000;
    // Charges are sent as each response ends: read until two reads 200 ms apart agree (at most 10 s).
    const read = async () => {
      const counters: Record<string, number | null> = {};
      const quotas: Record<string, number> = {};
      for (const c of consumers) {
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
    return { requests, seconds, tally, counters, quotas, quotaStart: QUOTA_START, trapped };
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
