/** Plugin stats in Prometheus text format, named as Envoy's /stats/prometheus does without tag rules. */
import type { MetricSample } from "./stream-api.ts";

/** Envoy prefixes `envoy_` and turns every character outside [a-zA-Z0-9_] into `_`. */
export function prometheusName(name: string): string {
  return `envoy_${name.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

export function renderPrometheus(samples: MetricSample[]): string {
  const lines: string[] = [];
  for (const sample of [...samples].sort((a, b) => a.name.localeCompare(b.name))) {
    const name = prometheusName(sample.name);
    lines.push(`# TYPE ${name} ${sample.type === "histogram" ? "histogram" : sample.type}`);
    lines.push(`${name}{} ${sample.value}`);
  }
  return lines.join("\n") + (lines.length ? "\n" : "");
}
