/**
 * The AI plugins' metric names as tests name them: each plugin's names read from its
 * `plugins/<plugin>/metrics.ts` (the one definition), in the layout of shared/runtime/metrics.ts's
 * aiMetricName, as the host exposes them (`wasmcustom.` first) and as /stats/prometheus shows them.
 */
import { existsSync, readdirSync } from "node:fs";
import { repoRoot } from "./paths.ts";
import { sourceConstant, sourceStrings } from "./source-constants.ts";
import { aiMetricFamily } from "../../host/prometheus.ts";

export interface AiLabels {
  route: string;
  cluster: string;
  model: string;
  consumer: string;
}

/** `wasmcustom.route.<route>.upstream.<cluster>.model.<model>.consumer.<consumer>.metric.<name>`. */
export function aiMetric(labels: AiLabels, name: string): string {
  return `wasmcustom.route.${labels.route}.upstream.${labels.cluster}.model.${labels.model}.consumer.${labels.consumer}.metric.${name}`;
}

/** The Prometheus family of a metric name once Higress's stats_tags took its labels out (the host's, which /stats/prometheus renders). */
export const prometheusFamily = aiMetricFamily;

/** A metric name of ai-token-ratelimit by its constant, e.g. `ratelimitMetric("INPUT_TOKEN_METRIC")`. */
export function ratelimitMetric(constant: string): string {
  return sourceConstant("plugins/ai-token-ratelimit/metrics.ts", constant);
}

/** A metric name of ai-quota by its constant, e.g. `quotaMetric("NO_QUOTA_METRIC")`. */
export function quotaMetric(constant: string): string {
  return sourceConstant("plugins/ai-quota/metrics.ts", constant);
}

/** A metric name of ai-statistics by its constant, e.g. `statisticsMetric("INPUT_TOKEN_METRIC")` (Higress's own names). */
export function statisticsMetric(constant: string): string {
  return sourceConstant("plugins/ai-statistics/metrics.ts", constant);
}

/** Each series of a /stats/prometheus scrape by its text before the value (`family{labels}`), with its value. */
export function scrapedSeries(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_][a-zA-Z0-9_]*\{[^}]*\}) (\d+)$/.exec(line);
    if (match) out.set(match[1], Number(match[2]));
  }
  return out;
}

/** Every plugin's metric names, from each `plugins/<plugin>/metrics.ts`, by plugin. */
export function pluginMetrics(): Map<string, string[]> {
  const plugins = readdirSync(`${repoRoot}plugins`).filter((p) => existsSync(`${repoRoot}plugins/${p}/metrics.ts`)).sort();
  return new Map(plugins.map((p) => [p, sourceStrings(`plugins/${p}/metrics.ts`)]));
}
