/**
 * The compose stack's Prometheus and Grafana (issue 17): files compose mounts exist, Prometheus
 * scrapes the gateway's stats port, Grafana's provisioning loads the dashboard with the datasource
 * its panels name, and every query names only metric families and labels our plugins define.
 * tests/e2e/dashboard.test.ts runs every query against a real Prometheus.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import YAML from "yaml";
import { repoRoot } from "../support/paths.ts";
import { DASHBOARD_FILE, dashboardQueries, loadDashboard, panels, templateVariables } from "../support/dashboard.ts";
import { pluginMetrics, prometheusFamily } from "../support/metric-names.ts";
import { DEFAULT_STATS_PORT } from "../../host/gateway-config.ts";
import { AI_STATS_TAGS } from "../../host/stats-tags.ts";

const read = (file: string) => readFileSync(`${repoRoot}${file}`, "utf8");
const compose = YAML.parse(read("docker-compose.yml"));
const PROMETHEUS_FILE = "stack/prometheus/prometheus.yml";
const DATASOURCES_FILE = "stack/grafana/provisioning/datasources/prometheus.yml";
const PROVIDERS_FILE = "stack/grafana/provisioning/dashboards/ai-gateway.yml";
/** What the official images read: prom/prometheus's default config file, Grafana's provisioning folder. */
const PROMETHEUS_CONFIG_IN_IMAGE = "/etc/prometheus/prometheus.yml";
const GRAFANA_PROVISIONING_IN_IMAGE = "/etc/grafana/provisioning";
/** Grafana's built-in time variables; the others a query names are the dashboard's template variables. */
const GRAFANA_VARIABLES = ["__rate_interval", "__range", "__interval"];

/** Where a service mounts a repository path (`./x:/y[:ro]`): the container path, by repository path. */
function mounts(service: string): Map<string, string> {
  return new Map(((compose.services[service].volumes ?? []) as string[]).map((v) => v.split(":")).map(([from, to]) => [from.replace(/^\.\//, ""), to]));
}

/** The container path where `file` of the repository is seen in `service`, through the mount of it or of a folder holding it. */
function inContainer(service: string, file: string): string | undefined {
  for (const [from, to] of mounts(service)) {
    if (file === from) return to;
    if (file.startsWith(`${from}/`)) return `${to}${file.slice(from.length)}`;
  }
  return undefined;
}

/** The published container port of a service for `host:port` targets inside the compose network. */
function containerPorts(service: string): number[] {
  return (compose.services[service].ports as string[]).map((p) => Number(p.split(":").pop()));
}

const PROMQL_KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or", "unless"]);

/** The metric names and label names a PromQL expression reads (strings, ranges and functions left out). */
function references(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  // label_replace(v, dst, replacement, src, regex) reads src.
  for (const m of expr.matchAll(/label_replace\(.*?,\s*"\w+",\s*"[^"]*",\s*"(\w+)",\s*"(?:[^"\\]|\\.)*"\)/gs)) labels.push(m[1]);
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  rest = rest.replace(/\{([^}]*)\}/g, (_, inner: string) => {
    for (const m of inner.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) labels.push(m[1]);
    return " ";
  });
  rest = rest.replace(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g, (_, list: string) => {
    labels.push(...list.split(",").map((l) => l.trim()).filter(Boolean));
    return " ";
  });
  rest = rest.replace(/\[[^\]]*\]/g, " ");
  const metrics = [...rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?!\s*\(|[a-zA-Z0-9_:])/g)].map((m) => m[0]).filter((w) => !PROMQL_KEYWORDS.has(w));
  return { metrics, labels };
}

test("docker-compose.yml: every repository path a service mounts exists; Prometheus and Grafana are the official images", () => {
  for (const service of Object.keys(compose.services)) {
    for (const from of mounts(service).keys()) assert.ok(existsSync(`${repoRoot}${from}`), `${service} mounts ./${from}, which exists`);
  }
  assert.match(compose.services.prometheus.image, /^prom\/prometheus:v\d+\.\d+\.\d+$/);
  assert.match(compose.services.grafana.image, /^grafana\/grafana:\d+\.\d+\.\d+$/);
  assert.deepEqual(compose.services.prometheus.depends_on, ["gateway"]);
  assert.deepEqual(compose.services.grafana.depends_on, ["prometheus"]);
});

test(`${PROMETHEUS_FILE}: mounted where the image reads its config, it scrapes the gateway's /stats/prometheus on the stats port`, () => {
  assert.equal(inContainer("prometheus", PROMETHEUS_FILE), PROMETHEUS_CONFIG_IN_IMAGE);
  const config = YAML.parse(read(PROMETHEUS_FILE));
  assert.equal(config.scrape_configs.length, 1);
  const [job] = config.scrape_configs;
  assert.equal(job.metrics_path, "/stats/prometheus");
  assert.deepEqual(job.static_configs, [{ targets: [`gateway:${DEFAULT_STATS_PORT}`] }]);
  assert.ok(containerPorts("gateway").includes(DEFAULT_STATS_PORT), "the gateway service serves the stats port");
});

test(`${DATASOURCES_FILE} and ${PROVIDERS_FILE}: Grafana gets the compose Prometheus as a datasource and loads ${DASHBOARD_FILE}`, () => {
  assert.equal(inContainer("grafana", "stack/grafana/provisioning"), GRAFANA_PROVISIONING_IN_IMAGE);
  const { datasources } = YAML.parse(read(DATASOURCES_FILE));
  assert.equal(datasources.length, 1);
  const [source] = datasources;
  assert.equal(source.type, "prometheus");
  const url = new URL(source.url);
  assert.equal(url.hostname, "prometheus", "the compose service");
  assert.ok(containerPorts("prometheus").includes(Number(url.port)), "a port Prometheus listens on");
  assert.equal(source.jsonData.timeInterval, YAML.parse(read(PROMETHEUS_FILE)).global.scrape_interval, "$__rate_interval follows the scrape interval");
  const { providers } = YAML.parse(read(PROVIDERS_FILE));
  assert.equal(providers.length, 1);
  assert.equal(providers[0].type, "file");
  assert.equal(inContainer("grafana", DASHBOARD_FILE), `${providers[0].options.path}/ai-gateway.json`, "the provider's folder holds the mounted dashboard");
  assert.equal(compose.services.grafana.environment.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH, inContainer("grafana", DASHBOARD_FILE), "it is Grafana's home page");
});

test(`${DASHBOARD_FILE}: parses; every panel, query and variable uses the provisioned datasource; panels fit the grid without overlapping`, () => {
  const dashboard = loadDashboard();
  const uid = YAML.parse(read(DATASOURCES_FILE)).datasources[0].uid;
  assert.equal(typeof uid, "string");
  const shown = panels(dashboard).filter((p) => p.type !== "row");
  assert.ok(shown.length > 0);
  for (const panel of shown) {
    assert.deepEqual(panel.datasource, { type: "prometheus", uid }, panel.title);
    assert.ok(panel.targets.length > 0, `${panel.title} has queries`);
    for (const target of panel.targets) assert.deepEqual(target.datasource, { type: "prometheus", uid }, `${panel.title}/${target.refId}`);
    assert.equal(new Set(panel.targets.map((t: any) => t.refId)).size, panel.targets.length, `${panel.title}: refIds are unique`);
  }
  for (const variable of templateVariables(dashboard)) assert.equal(variable.datasourceUid, uid, `variable ${variable.name}`);
  const ids = panels(dashboard).map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
  const cells = new Map<string, string>();
  for (const panel of panels(dashboard)) {
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24, `${panel.title} fits the 24 columns`);
    for (let i = x; i < x + w; i++) {
      for (let j = y; j < y + h; j++) {
        assert.equal(cells.get(`${i},${j}`), undefined, `${panel.title} overlaps ${cells.get(`${i},${j}`)}`);
        cells.set(`${i},${j}`, panel.title);
      }
    }
  }
});

test(`${DASHBOARD_FILE}: every query names only metric families a plugin's metrics.ts defines, AI labels and defined variables; every family is shown`, () => {
  const defined = new Map([...pluginMetrics()].flatMap(([plugin, names]) => names.map((n) => [prometheusFamily(n), plugin] as [string, string])));
  assert.ok(defined.size > 0);
  const labels = AI_STATS_TAGS.map((t) => t.tag_name);
  const variables = templateVariables().map((v) => v.name);
  for (const variable of templateVariables()) assert.ok(labels.includes(variable.label), `variable ${variable.name} lists an AI label`);
  const shown = new Set<string>();
  for (const query of dashboardQueries()) {
    const used = references(query.expr);
    assert.ok(used.metrics.length > 0, `${query.name} names a metric`);
    for (const metric of used.metrics) {
      assert.ok(defined.has(metric), `${query.name}: ${metric} is a family some plugin defines`);
      shown.add(metric);
    }
    for (const label of used.labels) assert.ok(labels.includes(label), `${query.name}: ${label} is one of ${labels.join(", ")}`);
    for (const [, name] of query.expr.matchAll(/\$([a-zA-Z_]\w*)/g)) {
      assert.ok(GRAFANA_VARIABLES.includes(name) || variables.includes(name), `${query.name}: $${name} is Grafana's or a template variable`);
    }
  }
  for (const [family, plugin] of defined) assert.ok(shown.has(family), `${plugin}'s ${family} is on the dashboard`);
});

test("the PromQL reader finds what a query names (so the checks above see a wrong name)", () => {
  assert.deepEqual(
    references('sum by (ai_model) (rate(a_b{ai_route=~"$route"}[$__rate_interval])) / on (ai_model) sum(irate(c[5m])) or vector(0)'),
    { metrics: ["a_b", "c"], labels: ["ai_route", "ai_model", "ai_model"] },
  );
  assert.deepEqual(references('label_replace(sum by (ai_cluster) (x), "provider", "$1", "ai_cluster", "llm-(.+)\\\\.dns")').labels, ["ai_cluster", "ai_cluster"]);
});
