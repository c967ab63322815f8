/**
 * Gateway throughput with autocannon (in its own process) against the host gateway: the three
 * plugins in Higress's order against no plugins, the same upstream and redis-server for both.
 * The ratio is the figure; absolute numbers are this TypeScript host's, not Envoy's.
 */
import { spawn } from "node:child_process";
import { startGateway, type Gateway } from "../host/gateway.ts";
import { startUpstream } from "../tests/support/upstream.ts";
import { startRedis } from "../tests/support/redis.ts";
import { pluginWasm, repoRoot } from "../tests/support/paths.ts";

const REDIS_CLUSTER = "outbound|80||bench-redis.static";
const REDIS = { service_name: "bench-redis.static" };
const KEY = "bench-user-key";
const PLUGINS = [
  { name: "key-auth", config: { keys: ["x-api-key"], in_header: true, consumers: [{ name: "bench-user", credential: KEY }] } },
  { name: "ai-quota", config: { admin_consumer: "bench-admin", redis: REDIS } },
  { name: "ai-token-ratelimit", config: { rule_name: "bench", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1_000_000_000_000 }] }], redis: REDIS } },
];
const BODY = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });

export interface Throughput {
  plain: number;
  plugins: number;
  ratio: number;
  errors: number;
}

/** Requests per second from autocannon's JSON report, and its non-2xx count. */
function autocannon(url: string, seconds: number, connections: number): Promise<{ rps: number; errors: number }> {
  const args = [`${repoRoot}node_modules/autocannon/autocannon.js`, "--json", "-c", String(connections), "-d", String(seconds),
    "-m", "POST", "-H", "content-type=application/json", "-H", `x-api-key=${KEY}`, "-b", BODY, `${url}/v1/chat/completions`];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.once("error", reject);
    child.once("exit", () => {
      try {
        const report = JSON.parse(out);
        resolve({ rps: report.requests.average, errors: report.non2xx + report.errors + report.timeouts });
      } catch (e) {
        reject(new Error(`autocannon gave no report: ${(e as Error).message}`));
      }
    });
  });
}

export async function gatewayThroughput(seconds: number, connections: number): Promise<Throughput> {
  const redis = await startRedis();
  const upstream = await startUpstream();
  await redis.client.set("chat_quota:bench-user", 1_000_000_000_000);
  const gateway = (plugins: typeof PLUGINS): Promise<Gateway> => startGateway({
    log_level: 2,
    clusters: { llm: { url: upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "bench", prefix: "/", cluster: "llm" }],
    plugins: plugins.map((p) => ({ name: p.name, wasm: pluginWasm(p.name), config: p.config })),
  });
  const plain = await gateway([]);
  const full = await gateway(PLUGINS);
  try {
    // Warm both, then alternate so drift on the machine hits both alike.
    await autocannon(plain.url, 1, connections);
    await autocannon(full.url, 1, connections);
    let plainRps = 0;
    let pluginRps = 0;
    let errors = 0;
    for (let round = 0; round < 2; round++) {
      const a = await autocannon(plain.url, seconds / 2, connections);
      const b = await autocannon(full.url, seconds / 2, connections);
      plainRps += a.rps / 2;
      pluginRps += b.rps / 2;
      errors += a.errors + b.errors;
    }
    return { plain: plainRps, plugins: pluginRps, ratio: pluginRps / plainRps, errors };
  } finally {
    await full.close();
    await plain.close();
    await upstream.close();
    await redis.stop();
  }
}
