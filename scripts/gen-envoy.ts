/**
 * Writes envoy/envoy.yaml (Higress gateway: the four plugins), envoy/envoy-key-auth.yaml (plain
 * Envoy: key-auth alone) and stack/gateway.yaml (the host gateway's CLI) from stack/walkthrough.yaml,
 * so the local stack, `npm start` and the CLI share one source. tests/static/stack.test.ts fails
 * when the committed files differ from what this writes.
 */
import { readFileSync, writeFileSync } from "node:fs";
import YAML from "yaml";
import { repoRoot } from "../tests/support/paths.ts";
import { AI_STATS_TAGS } from "../host/stats-tags.ts";
import { accessLogFormat } from "../host/access-log.ts";
import { DEFAULT_STATS_PORT } from "../host/gateway-config.ts";

export interface Walkthrough {
  route: string;
  redis_service: string;
  plugins: Array<{ name: string; config: Record<string, unknown> }>;
}

export const WASM_DIR = "/etc/envoy/wasm";
export const WASM_FILTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm";
const HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager";
const ROUTER = { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } };
const ADMIN_PORT = 9901;
/** The cluster the stats listener forwards to: Envoy's own admin, as in Higress's bootstrap. */
const STATS_CLUSTER = "prometheus_stats";

function wasmFilter(name: string, config: Record<string, unknown>) {
  return {
    name,
    typed_config: {
      "@type": WASM_FILTER_TYPE,
      config: {
        name,
        root_id: name,
        configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: JSON.stringify(config) },
        vm_config: { vm_id: name, runtime: "envoy.wasm.runtime.v8", code: { local: { filename: `${WASM_DIR}/${name}.wasm` } } },
      },
    },
  };
}

function cluster(name: string, host: string, port: number, type = "STRICT_DNS") {
  return {
    name,
    type,
    connect_timeout: "1s",
    lb_policy: "ROUND_ROBIN",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: host, port_value: port } } } }] }] },
  };
}

/** Envoy bootstrap for the given plugins; Redis cluster only when a plugin needs it. */
export function envoyConfig(walkthrough: Walkthrough, pluginNames: string[]): object {
  const plugins = walkthrough.plugins.filter((p) => pluginNames.includes(p.name));
  const clusters = [cluster("llm", "upstream", 8000), cluster(STATS_CLUSTER, "127.0.0.1", ADMIN_PORT, "STATIC")];
  if (plugins.some((p) => p.name !== "key-auth")) clusters.push(cluster(`outbound|80||${walkthrough.redis_service}`, "redis", 6379));
  return {
    admin: { address: { socket_address: { address: "0.0.0.0", port_value: ADMIN_PORT } } },
    // Higress's tags for AI metrics, so /stats/prometheus shows route_upstream_model_consumer_metric_* with labels.
    stats_config: { stats_tags: AI_STATS_TAGS },
    static_resources: {
      listeners: [{
        name: "main",
        address: { socket_address: { address: "0.0.0.0", port_value: 8080 } },
        filter_chains: [{
          filters: [{
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": HCM_TYPE,
              stat_prefix: "ingress_http",
              use_remote_address: true,
              access_log: [{
                name: "envoy.access_loggers.file",
                typed_config: {
                  "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                  path: "/dev/stdout",
                  log_format: { text_format_source: { inline_string: accessLogFormat() } },
                },
              }],
              route_config: {
                name: "local_route",
                virtual_hosts: [{ name: walkthrough.route, domains: ["*"], routes: [{ name: walkthrough.route, match: { prefix: "/" }, route: { cluster: "llm", timeout: "300s" } }] }],
              },
              http_filters: [
                ...plugins.map((p) => wasmFilter(p.name, p.config)),
                ROUTER,
              ],
            },
          }],
        }],
      }, {
        // /stats/prometheus on the stats port, forwarded to the admin, as Higress's bootstrap does.
        name: "stats",
        address: { socket_address: { address: "0.0.0.0", port_value: DEFAULT_STATS_PORT } },
        filter_chains: [{
          filters: [{
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": HCM_TYPE,
              stat_prefix: "stats",
              route_config: {
                virtual_hosts: [{ name: "backend", domains: ["*"], routes: [{ match: { prefix: "/stats/prometheus" }, route: { cluster: STATS_CLUSTER } }] }],
              },
              http_filters: [ROUTER],
            },
          }],
        }],
      }],
      clusters,
    },
  };
}

export function renderEnvoy(walkthrough: Walkthrough, pluginNames: string[]): string {
  return "# Generated by scripts/gen-envoy.ts from stack/walkthrough.yaml; do not edit by hand.\n" + YAML.stringify(envoyConfig(walkthrough, pluginNames), { lineWidth: 0 });
}

export function loadWalkthrough(): Walkthrough {
  return YAML.parse(readFileSync(`${repoRoot}stack/walkthrough.yaml`, "utf8"));
}

export const OUTPUTS: Record<string, string[]> = {
  "envoy/envoy.yaml": ["key-auth", "ai-statistics", "ai-quota", "ai-token-ratelimit"],
  "envoy/envoy-key-auth.yaml": ["key-auth"],
};

/** The host gateway file: `node --import tsx host/cli.ts stack/gateway.yaml`. */
export const GATEWAY_FILE = "stack/gateway.yaml";

/** The walkthrough for the host gateway's CLI, with the ports the READMEs name: upstream 8000 (`node --import tsx scripts/upstream.ts`), Redis 6379. */
export function renderGateway(walkthrough: Walkthrough): string {
  const gateway = {
    listen: { host: "127.0.0.1", port: 8080 },
    admin: { host: "127.0.0.1", port: DEFAULT_STATS_PORT },
    mode: "higress",
    clusters: {
      llm: { url: "http://127.0.0.1:8000" },
      [`outbound|80||${walkthrough.redis_service}`]: { redis: "127.0.0.1:6379" },
    },
    routes: [{ name: walkthrough.route, domains: ["*"], prefix: "/", cluster: "llm" }],
    plugins: walkthrough.plugins.map((p) => ({ name: p.name, wasm: `../build/${p.name}.wasm`, config: p.config })),
  };
  return "# Generated by scripts/gen-envoy.ts from stack/walkthrough.yaml; do not edit by hand.\n" + YAML.stringify(gateway, { lineWidth: 0 });
}

if (process.argv[1]?.endsWith("gen-envoy.ts")) {
  const walkthrough = loadWalkthrough();
  for (const [file, names] of Object.entries(OUTPUTS)) {
    writeFileSync(`${repoRoot}${file}`, renderEnvoy(walkthrough, names));
    console.log(`wrote ${file}`);
  }
  writeFileSync(`${repoRoot}${GATEWAY_FILE}`, renderGateway(walkthrough));
  console.log(`wrote ${GATEWAY_FILE}`);
}
