/**
 * Plugin stats in Prometheus text format, as Envoy's /stats/prometheus renders them with Higress's
 * stats_tags (envoyproxy/envoy source/server/admin/prometheus_stats.cc): names tag-extracted
 * (stats-tags.ts); a name in the custom namespace `wasmcustom` (every plugin stat: the Wasm
 * extension registers it) loses that prefix and gets no `envoy_`, other names get `envoy_`; every
 * character outside [a-zA-Z0-9_] becomes `_`, and a custom name that then starts with a digit is
 * left out. Counters, then gauges, then histograms; one `# TYPE` line per family, its series
 * sorted, a blank line after each family.
 */
import type { MetricSample } from "./stream-api.ts";
import { extractTags } from "./stats-tags.ts";

const CUSTOM_NAMESPACE = "wasmcustom.";
const TYPE_ORDER = ["counter", "gauge", "histogram"] as const;

/**
 * The Prometheus family of an AI plugin's metric `<name>` (shared/runtime/metrics.ts's aiMetricName,
 * `route.<route>.upstream.<cluster>.model.<model>.consumer.<consumer>.metric.<name>`) once the
 * stats tags took its four labels out and prometheusName sanitized the rest.
 */
export function aiMetricFamily(name: string): string {
  return `route_upstream_model_consumer_metric_${name}`;
}

/** The Prometheus name of a tag-extracted stat name; null when Envoy leaves it out. */
export function prometheusName(extracted: string): string | null {
  const sanitized = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");
  if (!extracted.startsWith(CUSTOM_NAMESPACE)) return `envoy_${sanitized(extracted)}`;
  const name = sanitized(extracted.slice(CUSTOM_NAMESPACE.length));
  return name === "" || /^[0-9]/.test(name) ? null : name;
}

/**
 * A label value as the text format requires (`\` `"` and newline escaped). Envoy writes values
 * unescaped; ours differ only for a route or cluster name holding one of the three, which a
 * Prometheus scrape of Envoy would then refuse.
 */
export function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function renderPrometheus(samples: MetricSample[]): string {
  let out = "";
  for (const type of TYPE_ORDER) {
    const families = new Map<string, Array<{ name: string; series: string }>>();
    for (const sample of samples) {
      if (sample.type !== type) continue;
      const tagged = extractTags(sample.name);
      const family = prometheusName(tagged.name);
      if (family === null) continue;
      const labels = tagged.tags.map(([k, v]) => `${k}="${labelValue(v)}"`).join(",");
      const list = families.get(family) ?? [];
      list.push({ name: sample.name, series: `${family}{${labels}} ${sample.value}` });
      families.set(family, list);
    }
    for (const family of [...families.keys()].sort()) {
      out += `# TYPE ${family} ${type}\n`;
      for (const s of families.get(family)!.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) out += s.series + "\n";
      out += "\n";
    }
  }
  return out;
}
