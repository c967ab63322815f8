import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import YAML from "yaml";
import { renderEnvoy, renderGateway, loadWalkthrough, OUTPUTS, GATEWAY_FILE, WASM_DIR, WASM_FILTER_TYPE } from "../../scripts/gen-envoy.ts";
import { createHost } from "../../host/direct.ts";
import { pluginWasm, repoRoot } from "../support/paths.ts";
import { wasmPluginConfig } from "../support/wasmplugin.ts";
import { redisCluster } from "../support/configure.ts";
import { AI_STATS_TAGS } from "../../host/stats-tags.ts";
import { accessLogFormat } from "../../host/access-log.ts";
import { DEFAULT_STATS_PORT } from "../../host/gateway-config.ts";

const read = (file: string) => readFileSync(`${repoRoot}${file}`, "utf8");

test("envoy/ and stack/gateway.yaml are generated from stack/walkthrough.yaml, the source npm start uses", () => {
  const walkthrough = loadWalkthrough();
  for (const [file, names] of Object.entries(OUTPUTS)) assert.equal(read(file), renderEnvoy(walkthrough, names), `${file} is stale: run node --import tsx scripts/gen-envoy.ts`);
  assert.equal(read(GATEWAY_FILE), renderGateway(walkthrough), `${GATEWAY_FILE} is stale: run node --import tsx scripts/gen-envoy.ts`);
});

for (const [file, names] of Object.entries(OUTPUTS)) {
  test(`${file}: well-formed Wasm filters whose modules are build outputs and whose configs the plugins accept`, async () => {
    const envoy = YAML.parse(read(file));
    const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const filters = hcm.http_filters as any[];
    assert.deepEqual(filters.map((f) => f.name), [...names, "envoy.filters.http.router"], "Higress's order: key-auth, ai-statistics, ai-quota, ai-token-ratelimit, router last");
    const clusters = (envoy.static_resources.clusters as any[]).map((c) => c.name);
    for (const filter of filters.slice(0, -1)) {
      const config = filter.typed_config.config;
      assert.equal(filter.typed_config["@type"], WASM_FILTER_TYPE);
      assert.equal(config.vm_config.runtime, "envoy.wasm.runtime.v8");
      assert.equal(config.configuration["@type"], "type.googleapis.com/google.protobuf.StringValue");
      const wasm = config.vm_config.code.local.filename as string;
      assert.equal(wasm, `${WASM_DIR}/${filter.name}.wasm`);
      assert.ok(existsSync(pluginWasm(filter.name)), `${wasm} is mounted from build/${filter.name}.wasm, a build output`);
      const pluginConfig = JSON.parse(config.configuration.value);
      const host = await createHost({ wasm: pluginWasm(filter.name), config: pluginConfig, mode: names.length === 1 ? "envoy" : "higress" });
      assert.equal(host.chain.failed(), false);
      const cluster = redisCluster(pluginConfig);
      if (cluster) assert.ok(clusters.includes(cluster), `cluster ${cluster} is defined`);
    }
  });
}

test("docker-compose.yml mounts the generated configs and build/ into a Higress gateway and a plain Envoy", () => {
  const compose = YAML.parse(read("docker-compose.yml"));
  assert.match(compose.services.gateway.image, /higress\/gateway:/);
  assert.ok(compose.services.gateway.volumes.includes("./envoy/envoy.yaml:/etc/envoy/envoy.yaml:ro"));
  assert.ok(compose.services.gateway.volumes.includes(`./build:${WASM_DIR}:ro`));
  assert.ok(compose.services.envoy.volumes.includes("./envoy/envoy-key-auth.yaml:/etc/envoy/envoy.yaml:ro"));
  assert.deepEqual(Object.keys(compose.services).sort(), ["envoy", "gateway", "grafana", "prometheus", "redis", "upstream"]);
  assert.ok(existsSync(`${repoRoot}scripts/upstream.ts`));
});

for (const name of ["key-auth", "ai-statistics", "ai-quota", "ai-token-ratelimit"]) {
  test(`packaging/${name}: a FROM scratch image with plugin.wasm, and a WasmPlugin whose config the plugin accepts`, async () => {
    assert.match(read(`packaging/${name}/Dockerfile`), new RegExp(`^FROM scratch\\nCOPY build/${name}\\.wasm \\./plugin\\.wasm$`, "m"));
    const resource = YAML.parse(read(`packaging/${name}/wasmplugin.yaml`));
    assert.equal(resource.kind, "WasmPlugin");
    assert.match(resource.spec.url, /^oci:\/\//);
    const host = await createHost({ wasm: pluginWasm(name), config: wasmPluginConfig(resource.spec) });
    assert.equal(host.chain.failed(), false);
  });
}

for (const name of ["ai-statistics", "ai-quota", "ai-token-ratelimit"]) {
  test(`packaging/${name}: the WasmPlugin gives the plugin the walkthrough's route-level config, authenticated_consumer_only on (issue 20)`, () => {
    const resource = YAML.parse(read(`packaging/${name}/wasmplugin.yaml`));
    assert.equal(resource.spec.defaultConfigDisable, true, "no config for routes without key-auth");
    const json = wasmPluginConfig(resource.spec);
    const walkthrough = loadWalkthrough().plugins.find((p) => p.name === name)!.config;
    assert.deepEqual(json, walkthrough);
    assert.equal((walkthrough._rules_ as Array<Record<string, unknown>>)[0].authenticated_consumer_only, true);
  });
}

for (const file of Object.keys(OUTPUTS)) {
  test(`${file}: Higress's stats_tags for AI metrics, the host's own list, and the host's access log format with ai_log (issue 17)`, () => {
    const envoy = YAML.parse(read(file));
    assert.deepEqual(envoy.stats_config.stats_tags, AI_STATS_TAGS, "the tags the host's /stats/prometheus applies");
    assert.deepEqual(AI_STATS_TAGS.map((t) => t.tag_name), ["ai_route", "ai_cluster", "ai_model", "ai_consumer"]);
    const hcm = envoy.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const format = hcm.access_log[0].typed_config.log_format.text_format_source.inline_string as string;
    assert.equal(format, accessLogFormat());
    assert.ok(format.startsWith('{"ai_log":"%FILTER_STATE(wasm.ai_log:PLAIN)%"'), "Higress's spelling, first as in its default format");
    const stats = envoy.static_resources.listeners.find((l: any) => l.name === "stats");
    assert.equal(stats.address.socket_address.port_value, DEFAULT_STATS_PORT);
    const route = stats.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0];
    assert.deepEqual(route.match, { prefix: "/stats/prometheus" });
    const admin = envoy.static_resources.clusters.find((c: any) => c.name === route.route.cluster);
    assert.equal(admin.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, envoy.admin.address.socket_address.port_value, "forwarded to Envoy's admin");
  });
}

test("stack/gateway.yaml and docker-compose.yml serve /stats/prometheus on the default stats port", () => {
  assert.equal(YAML.parse(read(GATEWAY_FILE)).admin.port, DEFAULT_STATS_PORT);
  assert.ok(YAML.parse(read("docker-compose.yml")).services.gateway.ports.includes(`${DEFAULT_STATS_PORT}:${DEFAULT_STATS_PORT}`));
});
