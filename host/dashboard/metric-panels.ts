/**
 * The metric panels' data from the gateway's own stats, in process: the samples /stats/prometheus
 * renders, tagged and named the same way (stats-tags.ts, prometheus.ts), summed by the labels each
 * panel asks for. Counters only, as they stand: the page turns them into rates and means between
 * two of its polls.
 */
import type { MetricSample } from "../stream-api.ts";
import { extractTags } from "../stats-tags.ts";
import { aiMetricFamily, prometheusName } from "../prometheus.ts";
import { FIELDS, PANELS, PROVIDER_PATTERN, type Label, type Panel } from "./panels.ts";

export interface Row {
  [FIELDS.key]: string;
  [FIELDS.values]: Record<string, number | string | null>;
}
export interface PanelData {
  [FIELDS.rows]: Row[];
  [FIELDS.note]?: string;
}

export function row(key: string, values: Row[typeof FIELDS.values]): Row {
  return { [FIELDS.key]: key, [FIELDS.values]: values };
}

type Labels = Record<string, string>;
const provider = new RegExp(PROVIDER_PATTERN);

/** The samples of each AI family (`route_upstream_model_consumer_metric_<name>`), with their labels. */
function byFamily(samples: MetricSample[]): Map<string, Array<{ labels: Labels; value: number }>> {
  const out = new Map<string, Array<{ labels: Labels; value: number }>>();
  for (const sample of samples) {
    if (sample.type !== "counter") continue;
    const tagged = extractTags(sample.name);
    const family = prometheusName(tagged.name);
    if (family === null) continue;
    const labels: Labels = Object.fromEntries(tagged.tags);
    if (labels.ai_cluster !== undefined) labels.provider = provider.exec(labels.ai_cluster)?.[1] ?? labels.ai_cluster;
    const list = out.get(family) ?? [];
    list.push({ labels, value: sample.value });
    out.set(family, list);
  }
  return out;
}

/** `metric` summed by `by`, each group named by `legend` with its `{{label}}`s replaced. */
function sumBy(families: ReturnType<typeof byFamily>, metric: string, by: Label[], legend: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const { labels, value } of families.get(aiMetricFamily(metric)) ?? []) {
    const name = by.reduce((text, label) => text.replaceAll(`{{${label}}}`, labels[label] ?? ""), legend);
    out.set(name, (out.get(name) ?? 0) + value);
  }
  return out;
}

function panelData(panel: Panel, families: ReturnType<typeof byFamily>): PanelData {
  const rows: Row[] = [];
  switch (panel.kind) {
    case "rate":
    case "bars":
    case "stat":
      for (const s of panel.series) {
        const sums = sumBy(families, s.metric, s.by ?? [], s.legend);
        // A fixed series (no labels) is shown at 0 before its counter exists, as Grafana's sum() of no series is no row.
        if (sums.size === 0 && !s.by) sums.set(s.legend, 0);
        for (const [key, value] of sums) rows.push(row(key, { [FIELDS.value]: value }));
      }
      break;
    case "mean":
      for (const s of panel.series) {
        const sums = sumBy(families, s.sum, s.by ?? [], s.legend);
        for (const [key, count] of sumBy(families, s.count, s.by ?? [], s.legend)) rows.push(row(key, { [FIELDS.sum]: sums.get(key) ?? 0, [FIELDS.count]: count }));
      }
      break;
    case "table": {
      const table = new Map<string, Row[typeof FIELDS.values]>();
      for (const column of panel.columns) {
        for (const [key, value] of sumBy(families, column.metric!, [panel.by], `{{${panel.by}}}`)) {
          const values = table.get(key) ?? Object.fromEntries(panel.columns.map((c) => [c.id, 0]));
          values[column.id] = value;
          table.set(key, values);
        }
      }
      for (const [key, values] of [...table].sort(([a], [b]) => (a < b ? -1 : 1))) rows.push(row(key, values));
      break;
    }
    default:
      throw new Error(`panel ${panel.id} is not a metric panel`);
  }
  return { [FIELDS.rows]: rows };
}

/** Every metric panel's data, by panel id. */
export function metricPanels(samples: MetricSample[]): Record<string, PanelData> {
  const families = byFamily(samples);
  const out: Record<string, PanelData> = {};
  for (const panel of PANELS) if (panel.kind !== "quota" && panel.kind !== "windows") out[panel.id] = panelData(panel, families);
  return out;
}
