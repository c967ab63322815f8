/**
 * The gateway's one config file: listener, admin listener, mode, clusters (HTTP upstreams and Redis),
 * named routes, and the plugin chain in the Higress JSON shape. Every error names its field.
 */
import { readFileSync, existsSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import YAML from "yaml";
import type { HostMode, PluginSpec } from "./stream-api.ts";

export interface RouteConfig {
  name: string;
  /** Envoy virtual-host domains: exact, "*", "*.suffix", "prefix*"; a port in Host is ignored. */
  domains: string[];
  prefix: string;
  cluster: string;
  /** Value of the `cluster_name` property; defaults to the cluster key. */
  clusterName: string;
}

/** An HTTP upstream as an Envoy cluster plus its route's rewrites: where, how, and how long. */
export interface HttpCluster {
  /** `http:` or `https:`; its path is a prefix put before every request's path (a base path such as `/compatible-mode`). */
  url: URL;
  /** Headers the router adds to requests of a cluster (e.g. the provider's API key). */
  headers: Array<[string, string]>;
  /** PEM CA certificates trusted besides the system's, for an https upstream (`ca_file`). */
  ca: string | null;
  /** Envoy's cluster connect_timeout and route timeout, in ms; a route timeout of 0 is none. */
  connectTimeoutMs: number;
  timeoutMs: number;
}

/**
 * Defaults: a cluster's connect_timeout 5 s, as Envoy's; a route's timeout (for the whole response)
 * 15 s in envoy mode, as Envoy's, and none in higress mode, as Istio's routes, which Higress's are.
 */
export const DEFAULT_CONNECT_TIMEOUT_S = 5;
export const DEFAULT_TIMEOUT_S: Record<HostMode, number> = { envoy: 15, higress: 0 };

export interface GatewayConfig {
  listen: { host: string; port: number };
  admin: { host: string; port: number };
  mode: HostMode;
  httpClusters: Record<string, HttpCluster>;
  redisClusters: Record<string, { host: string; port: number }>;
  routes: RouteConfig[];
  plugins: PluginSpec[];
  /** Re-chunk upstream response bodies every N bytes (tests of chunking invariance). */
  splitResponseBody: number | null;
  logLevel: number;
}

/**
 * The port `npm start` serves /stats/prometheus on (STATS_PORT changes it), and stack/gateway.yaml's
 * and envoy/envoy.yaml's: 15020, where a Higress gateway serves it and where Higress's own
 * Prometheus setup scrapes (`gateway:15020`, `/stats/prometheus`), so a scrape config written for
 * Higress finds this gateway unchanged. (9901 stays Envoy's admin in envoy/envoy.yaml.)
 */
export const DEFAULT_STATS_PORT = 15020;

export class GatewayConfigError extends Error {}

type Obj = Record<string, unknown>;

function fail(path: string, message: string): never {
  throw new GatewayConfigError(`gateway config: ${path} ${message}`);
}

function object(value: unknown, path: string): Obj {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail(path, `must be an object, got ${JSON.stringify(value)}`);
  return value as Obj;
}

/**
 * An object whose keys are all among `keys`: a misspelt key is refused with its path, never
 * ignored (`plugin:` for `plugins:` would start a gateway with no plugins, an open proxy).
 */
function only(value: unknown, path: string, keys: readonly string[]): Obj {
  const o = object(value, path);
  for (const key of Object.keys(o)) {
    if (!keys.includes(key)) fail(path === "(root)" ? key : `${path}.${key}`, `is not a known key (known here: ${keys.join(", ")})`);
  }
  return o;
}

const ROOT_KEYS = ["mode", "listen", "admin", "clusters", "routes", "plugins", "split_response_body", "log_level"] as const;
const LISTENER_KEYS = ["host", "port"] as const;
const CLUSTER_KEYS = ["url", "headers", "ca_file", "timeout", "connect_timeout", "redis"] as const;
const ROUTE_KEYS = ["name", "domains", "prefix", "cluster", "cluster_name"] as const;
const PLUGIN_KEYS = ["name", "wasm", "config", "vm_id"] as const;

function string(value: unknown, path: string): string {
  if (typeof value !== "string" || value === "") fail(path, `must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function port(value: unknown, path: string): number {
  if (value === undefined) return 0;
  if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > 65535) fail(path, `must be a port number 0-65535, got ${JSON.stringify(value)}`);
  return value as number;
}

function listener(value: unknown, path: string): { host: string; port: number } {
  if (value === undefined) return { host: "127.0.0.1", port: 0 };
  const o = only(value, path, LISTENER_KEYS);
  return { host: o.host === undefined ? "127.0.0.1" : string(o.host, `${path}.host`), port: port(o.port, `${path}.port`) };
}

/** Seconds, as a number (`30`, `0.5`); 0 only where `zero` says it means "none". */
function seconds(value: unknown, path: string, fallback: number, zero: boolean): number {
  if (value === undefined) return fallback * 1000;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || (value === 0 && !zero) || value > 86_400) {
    fail(path, `must be a number of seconds, ${zero ? "0 (none) " : "above 0 "}to 86400, got ${JSON.stringify(value)}`);
  }
  return value * 1000;
}

function httpCluster(c: Obj, path: string, baseDir: string, mode: HostMode): HttpCluster {
  const text = string(c.url, `${path}.url`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(`${path}.url`, `must be an http or https URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") fail(`${path}.url`, `must be an http or https URL, got ${JSON.stringify(text)}`);
  if (url.search || url.hash || url.username || url.password) fail(`${path}.url`, `must be scheme, host, port and base path only (no query, fragment or credentials: use ${path}.headers), got ${JSON.stringify(text)}`);
  const extra = c.headers === undefined ? {} : object(c.headers, `${path}.headers`);
  let ca: string | null = null;
  if (c.ca_file !== undefined) {
    if (url.protocol !== "https:") fail(`${path}.ca_file`, `is for an https url, and ${path}.url is ${JSON.stringify(text)}`);
    const file = string(c.ca_file, `${path}.ca_file`);
    try {
      ca = readFileSync(isAbsolute(file) ? file : resolve(baseDir, file), "utf8");
    } catch (e) {
      fail(`${path}.ca_file`, `cannot be read: ${(e as Error).message}`);
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) fail(`${path}.ca_file`, `holds no PEM certificate: ${JSON.stringify(file)}`);
  }
  return {
    url,
    headers: Object.entries(extra).map(([k, v]) => [k.toLowerCase(), string(v, `${path}.headers.${k}`)]),
    ca,
    connectTimeoutMs: seconds(c.connect_timeout, `${path}.connect_timeout`, DEFAULT_CONNECT_TIMEOUT_S, false),
    timeoutMs: seconds(c.timeout, `${path}.timeout`, DEFAULT_TIMEOUT_S[mode], true),
  };
}

/** A section without which the gateway would start and do something else than asked (no plugins: an open proxy). */
function required(root: Obj, key: string, hint: string): unknown {
  if (root[key] === undefined) fail(key, `is required (${hint})`);
  return root[key];
}

/** The cluster a plugin's `redis` block names, `outbound|<port>||<service_name>`; null without a service name. */
export function redisClusterName(redis: unknown): string | null {
  if (!redis || typeof redis !== "object" || typeof (redis as Obj).service_name !== "string") return null;
  const { service_name: name, service_port: port } = redis as { service_name: string; service_port?: unknown };
  return `outbound|${typeof port === "number" && port !== 0 ? port : name.endsWith(".static") ? 80 : 6379}||${name}`;
}

/**
 * The Redis clusters a plugin config names, as Higress's plugins name them from
 * `redis.service_name` / `service_port` (shared/redis/config.ts): `outbound|<port>||<name>`, the
 * port 80 for a `.static` service and 6379 otherwise. Global config and each `_rules_` entry.
 */
interface RedisReference {
  cluster: string;
  path: string;
  /** Where `redis` is, and what proxy_redis_init is given from it that decides where data goes: database and credentials. */
  at: string;
  init: { database: unknown; username: unknown; password: unknown };
}

function redisReferences(config: Obj, path: string): RedisReference[] {
  const found: RedisReference[] = [];
  const visit = (o: unknown, at: string) => {
    if (o === null || typeof o !== "object" || Array.isArray(o)) return;
    const redis = (o as Obj).redis as Obj | undefined;
    const cluster = redisClusterName(redis);
    if (cluster !== null) {
      // Absent and 0 are one database to the plugins' parser (shared/redis/config.ts).
      const init = { database: redis!.database ?? 0, username: redis!.username ?? "", password: redis!.password ?? "" };
      found.push({ cluster, path: `${at}.redis.service_name`, at: `${at}.redis`, init });
    }
  };
  visit(config, path);
  const rules = config._rules_;
  if (Array.isArray(rules)) rules.forEach((rule, j) => visit(rule, `${path}._rules_[${j}]`));
  return found;
}

/** Parses and checks a config object; `baseDir` resolves relative wasm and CA paths. */
export function parseGatewayConfig(raw: unknown, baseDir = process.cwd()): GatewayConfig {
  const root = only(raw, "(root)", ROOT_KEYS);
  const mode = root.mode ?? "higress";
  if (mode !== "higress" && mode !== "envoy") fail("mode", `must be "higress" or "envoy", got ${JSON.stringify(mode)}`);
  const httpClusters: Record<string, HttpCluster> = {};
  const redisClusters: Record<string, { host: string; port: number }> = {};
  for (const [name, value] of Object.entries(object(required(root, "clusters", "the upstreams routes send to"), "clusters"))) {
    const c = only(value, `clusters.${name}`, CLUSTER_KEYS);
    if (c.url !== undefined) {
      httpClusters[name] = httpCluster(c, `clusters.${name}`, baseDir, mode as HostMode);
    } else if (c.redis !== undefined) {
      const target = string(c.redis, `clusters.${name}.redis`);
      const at = target.lastIndexOf(":");
      const p = Number(target.slice(at + 1));
      if (at < 1 || !Number.isInteger(p) || p < 1 || p > 65535) fail(`clusters.${name}.redis`, `must be "host:port", got ${JSON.stringify(target)}`);
      redisClusters[name] = { host: target.slice(0, at), port: p };
    } else {
      fail(`clusters.${name}`, "needs `url` (HTTP upstream) or `redis` (host:port)");
    }
  }
  const routesRaw = required(root, "routes", "without one every request is answered 404");
  if (!Array.isArray(routesRaw)) fail("routes", "must be a list");
  const routeNames = new Map<string, number>();
  const routes = routesRaw.map((value, i): RouteConfig => {
    const r = only(value, `routes[${i}]`, ROUTE_KEYS);
    const cluster = string(r.cluster, `routes[${i}].cluster`);
    if (!httpClusters[cluster]) fail(`routes[${i}].cluster`, `names no HTTP cluster: ${JSON.stringify(cluster)}`);
    const domains = r.domains === undefined ? ["*"] : r.domains;
    if (!Array.isArray(domains) || domains.length === 0 || domains.some((d) => typeof d !== "string" || d === "")) fail(`routes[${i}].domains`, `must be a list of non-empty strings, got ${JSON.stringify(domains)}`);
    const name = string(r.name, `routes[${i}].name`);
    // The name is the route_name property `_match_route_` rules select by: two routes with one name are one to the plugins.
    if (routeNames.has(name)) fail(`routes[${i}].name`, `${JSON.stringify(name)} is already the name of routes[${routeNames.get(name)}]`);
    routeNames.set(name, i);
    const prefix = r.prefix === undefined ? "/" : string(r.prefix, `routes[${i}].prefix`);
    if (!prefix.startsWith("/")) fail(`routes[${i}].prefix`, `must start with "/", got ${JSON.stringify(prefix)}`);
    return {
      name,
      domains: domains as string[],
      prefix,
      cluster,
      clusterName: r.cluster_name === undefined ? cluster : string(r.cluster_name, `routes[${i}].cluster_name`),
    };
  });
  const pluginsRaw = required(root, "plugins", "the filter chain; write `plugins: []` for a gateway without plugins");
  if (!Array.isArray(pluginsRaw)) fail("plugins", "must be a list");
  const initsByCluster = new Map<string, RedisReference>();
  const plugins = pluginsRaw.map((value, i): PluginSpec => {
    const p = only(value, `plugins[${i}]`, PLUGIN_KEYS);
    const wasm = string(p.wasm, `plugins[${i}].wasm`);
    const file = isAbsolute(wasm) ? wasm : resolve(baseDir, wasm);
    if (!existsSync(file)) fail(`plugins[${i}].wasm`, `names no file: ${file} (npm run build writes build/<plugin>.wasm)`);
    const vmId = p.vm_id === undefined ? undefined : string(p.vm_id, `plugins[${i}].vm_id`);
    const config = p.config === undefined ? {} : object(p.config, `plugins[${i}].config`);
    // A Redis cluster no plugin can reach would answer every check with status 2 (not found) at run time.
    for (const ref of redisReferences(config, `plugins[${i}].config`)) {
      if (!redisClusters[ref.cluster]) {
        fail(ref.path, `names Redis cluster ${JSON.stringify(ref.cluster)}, and clusters has no such Redis cluster (Redis clusters: ${Object.keys(redisClusters).map((k) => JSON.stringify(k)).join(", ") || "none"})`);
      }
      // Higress keeps one Redis client per cluster and the last proxy_redis_init replaces its settings
      // (higress-group/higress#1678): two settings on one cluster would silently become one.
      const first = initsByCluster.get(ref.cluster);
      if (!first) initsByCluster.set(ref.cluster, ref);
      else {
        // The timeout is shared the same way, but only changes how long a failing call waits, never where data goes.
        for (const field of ["database", "username", "password"] as const) {
          if (first.init[field] === ref.init[field]) continue;
          const shown = (r: RedisReference) => (field === "password" ? "(secret)" : JSON.stringify(r.init[field]));
          fail(`${ref.at}.${field}`, `is ${shown(ref)} and ${first.at}.${field} is ${shown(first)} on the same Redis cluster ${JSON.stringify(ref.cluster)}: Higress keeps one client per cluster, so the last plugin to start would set it for both; make them equal, or give one its own service name (a second cluster to the same Redis)`);
        }
      }
    }
    return { name: string(p.name, `plugins[${i}].name`), wasm: file, config, vmId };
  });
  const split = root.split_response_body === undefined ? null : only(root.split_response_body, "split_response_body", ["every"]).every;
  if (split !== null && (!Number.isInteger(split) || (split as number) < 1)) fail("split_response_body.every", `must be a positive integer, got ${JSON.stringify(split)}`);
  const logLevel = root.log_level ?? 1;
  if (!Number.isInteger(logLevel) || (logLevel as number) < 0 || (logLevel as number) > 6) fail("log_level", `must be 0-6, got ${JSON.stringify(logLevel)}`);
  return {
    listen: listener(root.listen, "listen"),
    admin: listener(root.admin, "admin"),
    mode,
    httpClusters,
    redisClusters,
    routes,
    plugins,
    splitResponseBody: split as number | null,
    logLevel: logLevel as number,
  };
}

/** Reads a YAML (or JSON) file; relative wasm paths resolve against the file's folder. */
export function loadGatewayConfig(file: string): GatewayConfig {
  return parseGatewayConfig(YAML.parse(readFileSync(file, "utf8")), dirname(resolve(file)));
}

/** Envoy domain matching: exact, "*", "*.suffix"-style suffix, "prefix*"; Host's port is ignored. */
export function domainMatches(pattern: string, authority: string): boolean {
  const host = stripPort(authority).toLowerCase();
  const p = pattern.toLowerCase();
  if (p === "*") return true;
  if (p.startsWith("*")) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  if (p.endsWith("*")) return host.startsWith(p.slice(0, -1));
  return host === p;
}

function stripPort(authority: string): string {
  const colon = authority.lastIndexOf(":");
  if (colon > 0 && authority.indexOf("]", colon) < 0) return authority.slice(0, colon);
  return authority;
}
