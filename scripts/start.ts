/**
 * `npm start`: the walkthrough on the host gateway, on loopback. Redis from REDIS_URL or a
 * redis-server started here; the upstream from UPSTREAM_URL (http or https, its path a base path
 * put before every request's; + UPSTREAM_API_KEY, + UPSTREAM_CA_FILE for a CA beside the system's)
 * or a built-in OpenAI-compatible one. Ctrl-C stops everything it started.
 */
import { readFileSync, existsSync } from "node:fs";
import { basename } from "node:path";
import { staleModules } from "./stale-build.ts";
import { execFileSync } from "node:child_process";
import { parseRedisUrl, checkRedis, withRedisCredentials, type RedisTarget } from "./redis-url.ts";
import YAML from "yaml";
import { startGateway, type Gateway } from "../host/gateway.ts";
import { printLogs } from "../host/log-printer.ts";
import { DEFAULT_STATS_PORT } from "../host/gateway-config.ts";
import { DASHBOARD_PATH } from "../host/dashboard/panels.ts";
import { startRedis } from "../tests/support/redis.ts";
import { startUpstream } from "../tests/support/upstream.ts";
import { pluginWasm, repoRoot } from "../tests/support/paths.ts";

interface Walkthrough {
  route: string;
  redis_service: string;
  plugins: Array<{ name: string; config: Record<string, any> }>;
}

const walkthrough = YAML.parse(readFileSync(`${repoRoot}stack/walkthrough.yaml`, "utf8")) as Walkthrough;
// Built when missing, and rebuilt when a source changed after a module was built: never a stale build.
const stale = staleModules(walkthrough.plugins.map((p) => pluginWasm(p.name)), [`${repoRoot}plugins`, `${repoRoot}shared`]);
if (stale.length > 0) {
  console.log(`building the plugins: ${stale.map((f) => basename(f)).join(", ")} ${stale.some(existsSync) ? "older than their sources" : "not built yet"}`);
  execFileSync(process.execPath, [`${repoRoot}scripts/build.mjs`], { stdio: "inherit" });
}

const stops: Array<() => Promise<void>> = [];
let redisTarget: string;
let redisUrl: RedisTarget | null = null;
if (process.env.REDIS_URL) {
  const fail = (why: string) => {
    // The password is a secret: the message shows where it was, not what it is.
    console.error(`REDIS_URL=${process.env.REDIS_URL!.replace(/^(redis:\/\/[^:@/]*:)[^@/]*@/, "$1***@")}: ${why}`);
    process.exit(1);
  };
  try {
    redisUrl = parseRedisUrl(process.env.REDIS_URL);
  } catch (e) {
    fail((e as Error).message);
  }
  redisTarget = `${redisUrl!.host}:${redisUrl!.port}`;
  // Checked now: a dead Redis or refused credentials would otherwise start a gateway that answers 503 to every chat.
  try {
    await checkRedis(redisUrl!);
  } catch (e) {
    fail(`Redis at ${redisTarget} cannot be reached (${(e as Error).message}); start it, fix the URL, or unset REDIS_URL to have npm start run its own redis-server`);
  }
} else {
  try {
    const redis = await startRedis();
    stops.push(() => redis.stop());
    redisTarget = `${redis.host}:${redis.port}`;
  } catch {
    console.error("redis-server was not found: install it (apt-get install -y redis-server) or set REDIS_URL=redis://[user[:password]@]host:port[/database]");
    process.exit(1);
  }
}

let upstreamUrl = process.env.UPSTREAM_URL;
const upstreamTls = process.env.UPSTREAM_CA_FILE ? { ca_file: process.env.UPSTREAM_CA_FILE } : {};
if (!upstreamUrl) {
  const upstream = await startUpstream();
  stops.push(() => upstream.close());
  upstreamUrl = upstream.url;
}

const port = Number(process.env.PORT ?? 8080);
const statsPort = Number(process.env.STATS_PORT ?? DEFAULT_STATS_PORT);
let gateway: Gateway;
try {
  gateway = await startGateway({
    listen: { host: "127.0.0.1", port },
    admin: { host: "127.0.0.1", port: statsPort },
    // Envoy's default level (info): warnings and errors such as a failed charge, no per-request debug lines.
    log_level: 2,
    clusters: {
      llm: { url: upstreamUrl, ...upstreamTls, ...(process.env.UPSTREAM_API_KEY ? { headers: { authorization: `Bearer ${process.env.UPSTREAM_API_KEY}` } } : {}) },
      [`outbound|80||${walkthrough.redis_service}`]: { redis: redisTarget },
    },
    routes: [{ name: walkthrough.route, domains: ["*"], prefix: "/", cluster: "llm" }],
    // REDIS_URL's user, password and database reach Redis as Higress's do: through each plugin's redis config.
    plugins: walkthrough.plugins.map((p) => ({ name: p.name, wasm: pluginWasm(p.name), config: redisUrl ? withRedisCredentials(p.config, redisUrl) : p.config })),
  }, { onAccessLog: (line) => process.stdout.write(line + "\n") });
} catch (e) {
  // A bad UPSTREAM_URL or UPSTREAM_CA_FILE is named by the config check (clusters.llm.url, clusters.llm.ca_file).
  console.error(`${(e as Error).message} (from UPSTREAM_URL / UPSTREAM_CA_FILE)`);
  for (const s of stops) await s().catch(() => undefined);
  process.exit(1);
}
stops.unshift(() => gateway.close());
printLogs(gateway);

const consumers = walkthrough.plugins.find((p) => p.name === "key-auth")!.config.consumers as Array<{ name: string; credential: string }>;
const key = (name: string) => consumers.find((c) => c.name === name)!.credential;
const base = gateway.url;
console.log(`gateway on ${base} (route ${walkthrough.route}), upstream ${upstreamUrl}, redis ${redisTarget}`);
console.log(`stats: ${gateway.adminUrl}/stats/prometheus (STATS_PORT changes the port); access log: one JSON line per request below`);
console.log(`dashboard: ${gateway.adminUrl}${DASHBOARD_PATH} (live tokens, rejections, and each consumer's quota and rate-limit window)\n`);
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
