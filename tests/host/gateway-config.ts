/**
 * The gateway's one config file: listener, admin listener, mode, clusters (HTTP upstreams and Redis),
 * named routes, and the plugin chain in the Higress JSON shape. Every error names its field.
 */
import { readFileSync } from "node:fs";
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

export interface GatewayConfig {
  listen: { host: string; port: number };
  admin: { host: string; port: number };
  mode: HostMode;
  httpClusters: Record<string, URL>;
  /** Headers the router adds to requests of a cluster (e.g. the provider's API key). */
  clusterHeaders: Record<string, Array<[string, string]>>;
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
const CLUSTER_KEYS = ["url", "headers", "redis"] as const;
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

/** Parses and checks a config object; `baseDir` resolves relative wasm paths. */
export function parseGatewayConfig(raw: unknown, baseDir = process.cwd()): GatewayConfig {
  const root = only(raw, "(root)", ROOT_KEYS);
  const mode = root.mode ?? "higress";
  if (mode !== "higress" && mode !== "envoy") fail("mode", `must be "higress" or "envoy", got ${JSON.stringify(mode)}`);
  const httpClusters: Record<string, URL> = {};
  const clusterHeaders: Record<string, Array<[string, string]>> = {};
  const redisClusters: Record<string, { host: string; port: number }> = {};
  for (const [name, value] of Object.entries(object(root.clusters ?? {}, "clusters"))) {
    const c = only(value, `clusters.${name}`, CLUSTER_KEYS);
    if (c.url !== undefined) {
      try {
        httpClusters[name] = new URL(string(c.url, `clusters.${name}.url`));
        const extra = c.headers === undefined ? {} : object(c.headers, `clusters.${name}.headers`);
        clusterHeaders[name] = Object.entries(extra).map(([k, v]) => [k.toLowerCase(), string(v, `clusters.${name}.headers.${k}`)]);
      } catch (e) {
        if (e instanceof GatewayConfigError) throw e;
        fail(`clusters.${name}.url`, `must be an http URL, got ${JSON.stringify(c.url)}`);
      }
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
  const routesRaw = root.routes ?? [];
  if (!Array.isArray(routesRaw)) fail("routes", "must be a list");
  const routes = routesRaw.map((value, i): RouteConfig => {
    const r = only(value, `routes[${i}]`, ROUTE_KEYS);
    const cluster = string(r.cluster, `routes[${i}].cluster`);
    if (!httpClusters[cluster]) fail(`routes[${i}].cluster`, `names no HTTP cluster: ${JSON.stringify(cluster)}`);
    const domains = r.domains === undefined ? ["*"] : r.domains;
    if (!Array.isArray(domains) || domains.some((d) => typeof d !== "string")) fail(`routes[${i}].domains`, "must be a list of strings");
    return {
      name: string(r.name, `routes[${i}].name`),
      domains: domains as string[],
      prefix: r.prefix === undefined ? "/" : string(r.prefix, `routes[${i}].prefix`),
      cluster,
      clusterName: r.cluster_name === undefined ? cluster : string(r.cluster_name, `routes[${i}].cluster_name`),
    };
  });
  const pluginsRaw = root.plugins ?? [];
  if (!Array.isArray(pluginsRaw)) fail("plugins", "must be a list");
  const plugins = pluginsRaw.map((value, i): PluginSpec => {
    const p = only(value, `plugins[${i}]`, PLUGIN_KEYS);
    const wasm = string(p.wasm, `plugins[${i}].wasm`);
    const vmId = p.vm_id === undefined ? undefined : string(p.vm_id, `plugins[${i}].vm_id`);
    return { name: string(p.name, `plugins[${i}].name`), wasm: isAbsolute(wasm) ? wasm : resolve(baseDir, wasm), config: p.config ?? {}, vmId };
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
    clusterHeaders,
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
