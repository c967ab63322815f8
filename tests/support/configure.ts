/** Configures a built plugin in the test host and says whether it started, with what it logged. */
import assert from "node:assert/strict";
import { createHost } from "../../host/direct.ts";
import type { LogEntry } from "../../host/stream-api.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";
import { pluginWasm } from "./paths.ts";
import type { RedisServer } from "./redis.ts";

export const LOG_WARN = 3;
export const LOG_ERROR = 4;

export interface Configured {
  accepted: boolean;
  /** The plugin's own log lines at warn level or above (the host's "failed to initialize" line left out). */
  lines: LogEntry[];
}

/** The Higress cluster name a plugin config's `redis` block names, as shared/redis/config.ts derives it; null without one. */
export function redisCluster(config: any): string | null {
  if (!config?.redis?.service_name || typeof config.redis.service_name !== "string") return null;
  const name = config.redis.service_name as string;
  const port = config.redis.service_port || (name.endsWith(".static") ? 80 : 6379);
  return `outbound|${port}||${name}`;
}

/** A bridge from every cluster the config (and each of its `_rules_`) names to `server`. */
function bridgeTo(server: RedisServer, config: unknown): RedisBridge {
  const configs = [config, ...(Array.isArray((config as any)?._rules_) ? (config as any)._rules_ : [])];
  const clusters = Object.fromEntries(configs.map(redisCluster).filter((c) => c !== null).map((c) => [c, { host: server.host, port: server.port }]));
  return new RedisBridge(clusters);
}

/** Runs proxy_on_configure with `config` (an object is sent as JSON), its Redis clusters bridged to `redis` when given; never a trap. */
export async function configure(plugin: string, config: unknown, redis?: RedisServer): Promise<Configured> {
  let logs: LogEntry[];
  let accepted = true;
  const bridge = redis && typeof config === "object" ? bridgeTo(redis, config) : undefined;
  try {
    const host = await createHost({ name: plugin, wasm: pluginWasm(plugin), config, redis: bridge });
    assert.equal(host.chain.failed(), false, "the VM never trapped");
    logs = host.logs();
  } catch (e) {
    logs = (e as { logs?: LogEntry[] }).logs ?? [];
    if (logs.length === 0) throw e;
    accepted = false;
  } finally {
    await bridge?.close();
  }
  assert.ok(!logs.some((l) => /Wasm VM failed: /.test(l.message)), "configure refused or accepted, it did not trap");
  return { accepted, lines: logs.filter((l) => l.level >= LOG_WARN && !l.message.startsWith("Wasm VM failed to initialize")) };
}

const shown = (config: unknown) => (typeof config === "string" ? config.slice(0, 120) : JSON.stringify(config));

/** The plugin's error lines when configure refused `config`; fails the test when it was accepted. */
export async function refusal(plugin: string, config: unknown): Promise<string[]> {
  const result = await configure(plugin, config);
  assert.equal(result.accepted, false, `${plugin} accepted ${shown(config)}`);
  return result.lines.filter((l) => l.level >= LOG_ERROR).map((l) => l.message);
}

/** Fails the test unless the plugin starts with `config` and logs no error (and, with `quiet`, no warning either). */
export async function accepted(plugin: string, config: unknown, options: { quiet?: boolean; redis?: RedisServer } = {}): Promise<void> {
  const quiet = options.quiet ?? false;
  const result = await configure(plugin, config, options.redis);
  const lines = result.lines.filter((l) => l.level >= (quiet ? LOG_WARN : LOG_ERROR)).map((l) => l.message);
  assert.ok(result.accepted, `${plugin} refused ${shown(config)}: ${lines.join(" | ")}`);
  assert.deepEqual(lines, [], `${plugin} logged nothing ${quiet ? "at warn or above" : "at error"} for ${shown(config)}`);
}
