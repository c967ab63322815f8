/**
 * The dashboard page (host/dashboard/) agrees with the shipped Grafana dashboard: the same rows,
 * the same panels in the same order, each reading the metric families its Grafana panel queries,
 * grouped by the same labels, with the same legends; it names plugins by their own PLUGIN_NAME;
 * its files load nothing from outside the gateway; the docs give its path and show its picture.
 * tests/e2e/dashboard-page.test.ts reads its numbers in a real browser.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { repoRoot } from "../support/paths.ts";
import { loadDashboard } from "../support/dashboard.ts";
import { SCREENSHOT } from "../support/dashboard-page.ts";
import { prometheusFamily } from "../support/metric-names.ts";
import { sourceConstant } from "../support/source-constants.ts";
import { DASHBOARD_PATH, PROVIDER_PATTERN, SECTIONS, type Panel } from "../../host/dashboard/panels.ts";
import { KEY_AUTH_PLUGIN, LIMITER_PLUGIN, QUOTA_PLUGIN } from "../../host/dashboard/store-sources.ts";

const read = (file: string) => readFileSync(`${repoRoot}${file}`, "utf8");
/** The page's own section, read from Redis: Grafana has no such row. */
const storeSections = SECTIONS.filter((s) => s.panels.every((p) => p.kind === "quota" || p.kind === "windows"));
const metricSections = SECTIONS.filter((s) => !storeSections.includes(s));

/** Grafana's rows, each with the panels under it (top-level panels follow their row). */
function grafanaRows(): Array<{ title: string; panels: any[] }> {
  const rows: Array<{ title: string; panels: any[] }> = [];
  for (const p of loadDashboard().panels as any[]) {
    if (p.type === "row") rows.push({ title: p.title, panels: [...(p.panels ?? [])] });
    else rows.at(-1)!.panels.push(p);
  }
  return rows;
}

function metricsOf(panel: Panel): string[] {
  if (panel.kind === "table") return panel.columns.map((c) => c.metric!);
  if (panel.kind === "mean") return panel.series.flatMap((s) => [s.sum, s.count]);
  return "series" in panel ? panel.series.map((s) => s.metric) : [];
}

function byOf(panel: Panel): string[] {
  if (panel.kind === "table") return [panel.by];
  return "series" in panel ? [...new Set<string>(panel.series.flatMap((s) => s.by ?? []))] : [];
}

test("the page's sections and panels are Grafana's rows and panels, in order, plus its own Redis section", () => {
  const rows = grafanaRows();
  assert.deepEqual(metricSections.map((s) => s.title), rows.map((r) => r.title));
  for (const [i, section] of metricSections.entries()) assert.deepEqual(section.panels.map((p) => p.title), rows[i].panels.map((p) => p.title), section.title);
  assert.equal(storeSections.length, 1);
});

test("each metric panel reads the families its Grafana panel queries, by the same labels, with the same legends", () => {
  const grafana = new Map(grafanaRows().flatMap((r) => r.panels).map((p) => [p.title, p]));
  for (const panel of metricSections.flatMap((s) => s.panels)) {
    const targets = grafana.get(panel.title).targets as Array<{ expr: string; legendFormat?: string }>;
    const families = [...new Set(targets.flatMap((t) => [...t.expr.matchAll(/\broute_upstream_model_consumer_metric_\w+/g)].map((m) => m[0])))];
    assert.deepEqual(metricsOf(panel).map(prometheusFamily).sort(), families.sort(), panel.title);
    const grouped = [...new Set(targets.flatMap((t) => [...t.expr.matchAll(/sum by \((\w+)\)/g)].map((m) => m[1])))];
    const provider = targets.some((t) => t.expr.includes('"provider"'));
    assert.deepEqual(byOf(panel), grouped.map((l) => (provider && l === "ai_cluster" ? "provider" : l)), panel.title);
    if ("series" in panel) assert.deepEqual(panel.series.map((s: { legend: string }) => s.legend), targets.map((t) => t.legendFormat), panel.title);
  }
});

test("the provider is read from ai_cluster with Grafana's label_replace regex (anchored, as PromQL's are)", () => {
  const usage = grafanaRows().flatMap((r) => r.panels).find((p) => p.title === "Usage by provider");
  const regexes = new Set((usage.targets as Array<{ expr: string }>).map((t) => JSON.parse(/"ai_cluster", ("(?:[^"\\]|\\.)*")\)/.exec(t.expr)![1])));
  assert.deepEqual([...regexes], [PROVIDER_PATTERN.slice(1, -1)]);
  const provider = new RegExp(PROVIDER_PATTERN);
  assert.equal(provider.exec("outbound|443||llm-qwen.internal.dns")?.[1], "qwen");
  assert.equal(provider.exec("llm"), null);
});

test("the store panels find the plugins by their own names", () => {
  assert.equal(QUOTA_PLUGIN, sourceConstant("plugins/ai-quota/config.ts", "PLUGIN_NAME"));
  assert.equal(LIMITER_PLUGIN, sourceConstant("plugins/ai-token-ratelimit/config.ts", "PLUGIN_NAME"));
  assert.equal(KEY_AUTH_PLUGIN, sourceConstant("plugins/key-auth/config.ts", "PLUGIN_NAME"));
});

test("the page's files load nothing from outside the gateway (no CDN: it works without internet)", () => {
  const files = readdirSync(`${repoRoot}host/dashboard/page`);
  assert.deepEqual(files.sort(), ["chart.js", "index.html", "page.js", "style.css"]);
  for (const file of files) {
    const text = read(`host/dashboard/page/${file}`).replaceAll("http://www.w3.org/2000/svg", "");
    assert.doesNotMatch(text, /\bhttps?:\/\/|(?:src|href)=["']\/\/|@import|url\(/, file);
  }
});

test("README and host/README.md give the page's path, and README shows its picture", () => {
  for (const file of ["README.md", "host/README.md"]) assert.match(read(file), new RegExp(`${DASHBOARD_PATH}\\b`), file);
  assert.match(read("README.md"), new RegExp(`!\\[[^\\]]+\\]\\(${SCREENSHOT}\\)`));
  const png = readFileSync(`${repoRoot}${SCREENSHOT}`);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${SCREENSHOT} is a PNG`);
});
