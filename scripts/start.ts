/**
 * `npm start`: the walkthrough on the host gateway, on loopback. Redis from REDIS_URL or a
 * redis-server started here; the upstream from UPSTREAM_URL (+ UPSTREAM_API_KEY) or a built-in
 * OpenAI-compatible one. Ctrl-C stops everything it started.
 */
import { readFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import net from "node:net";
import YAML from "yaml";
import { startGateway } from "../tests/host/gateway.ts";
import { DEFAULT_STATS_PORT } from "../tests/host/gateway-config.ts";
import { startRedis } from "../tests/support/redis.ts";
import { startUpstream } from "../tests/support/upstream.ts";
import { pluginWasm, repoRoot } from "../tests/support/paths.ts";

/** Resolves with Redis's answer to PING (any reply, +PONG or an auth error, means it is there); rejects when nothing answers in time. */
function pingRedis(host: string, port: number, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once("connect", () => socket.write("*1\r\n$4\r\nPING\r\n"));
    socket.once("data", (reply) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(reply.toString("latin1").split("\r\n")[0]);
    });
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

interface Walkthrough {
  route: string;
  redis_service: string;
  plugins: Array<{ name: string; config: Record<string, any> }>;
}

const walkthrough = YAML.parse(readFileSync(`${repoRoot}stack/walkthrough.yaml`, "utf8")) as Walkthrough;
if (walkthrough.plugins.some((p) => !existsSync(pluginWasm(p.name)))) {
  execFileSync(process.execPath, [`${repoRoot}scripts/build.mjs`], { stdio: "inherit" });
}

const stops: Array<() => Promise<void>> = [];
let redisTarget: string;
if (process.env.REDIS_URL) {
  const url = new URL(process.env.REDIS_URL);
  redisTarget = `${url.hostname}:${url.port || 6379}`;
  // Checked now: a dead Redis would otherwise start a gateway that answers 503 to every chat.
  try {
    await pingRedis(url.hostname, Number(url.port || 6379));
  } catch (e) {
    console.error(`REDIS_URL=${process.env.REDIS_URL}: Redis at ${redisTarget} cannot be reached (${(e as Error).message}); start it, or unset REDIS_URL to have npm start run its own redis-server`);
    process.exit(1);
  }
} else {
  try {
    const redis = await startRedis();
    stops.push(() => redis.stop());
    redisTarget = `${redis.host}:${redis.port}`;
  } catch {
    console.error("redis-server was not found: install it (apt-get install -y redis-server) or set REDIS_URL=redis://host:port");
    process.exit(1);
  }
}

let upstreamUrl = process.env.UPSTREAM_URL;
if (!upstreamUrl) {
  const upstream = await startUpstream();
  stops.push(() => upstream.close());
  upstreamUrl = upstream.url;
}

const port = Number(process.env.PORT ?? 8080);
const statsPort = Number(process.env.STATS_PORT ?? DEFAULT_STATS_PORT);
const gateway = await startGateway({
  listen: { host: "127.0.0.1", port },
  admin: { host: "127.0.0.1", port: statsPort },
  clusters: {
    llm: { url: upstreamUrl, ...(process.env.UPSTREAM_API_KEY ? { headers: { authorization: `Bearer ${process.env.UPSTREAM_API_KEY}` } } : {}) },
    [`outbound|80||${walkthrough.redis_service}`]: { redis: redisTarget },
  },
  routes: [{ name: walkthrough.route, domains: ["*"], prefix: "/", cluster: "llm" }],
  plugins: walkthrough.plugins.map((p) => ({ name: p.name, wasm: pluginWasm(p.name), config: p.config })),
}, { onAccessLog: (line) => process.stdout.write(line + "\n") });
stops.unshift(() => gateway.close());

const consumers = walkthrough.plugins.find((p) => p.name === "key-auth")!.config.consumers as Array<{ name: string; credential: string }>;
const key = (name: string) => consumers.find((c) => c.name === name)!.credential;
const base = gateway.url;
console.log(`gateway on ${base} (route ${walkthrough.route}), upstream ${upstreamUrl}, redis ${redisTarget}`);
console.log(`stats: ${gateway.adminUrl}/stats/prometheus (STATS_PORT changes the port); access log: one JSON line per request below\n`);
for (const c of consumers) console.log(`  ${c.name.padEnd(14)} x-api-key: ${c.credential}`);
console.log(`
# query, refresh and add to aliyun-user1's quota (as aliyun-admin)
curl '${base}/v1/chat/completions/quota?consumer=aliyun-user1' -H 'x-api-key: ${key("aliyun-admin")}'
curl '${base}/v1/chat/completions/quota/refresh' -d 'consumer=aliyun-user1&quota=100' -H 'x-api-key: ${key("aliyun-admin")}'
curl '${base}/v1/chat/completions/quota/delta' -d 'consumer=aliyun-user1&value=100' -H 'x-api-key: ${key("aliyun-admin")}'
# chat as aliyun-user1 (a second chat within the minute gets 429)
curl '${base}/v1/chat/completions' -H 'x-api-key: ${key("aliyun-user1")}' -H 'Content-Type: application/json' -d '{"model": "qwen-max", "messages": [{"role": "user", "content": "Who are you?"}]}'
`);

const stop = async () => {
  for (const s of stops) await s().catch(() => undefined);
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
