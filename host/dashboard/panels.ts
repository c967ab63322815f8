/**
 * What the dashboard page shows, defined once: its paths, its sections and panels (titles, kinds,
 * columns, the metrics each sums), and the field names of its data JSON. The server computes every
 * panel from this (metric-panels.ts, store-panels.ts), the page draws it (the browser gets it as
 * PANELS_SCRIPT), and the tests read it. The metric panels are the Grafana dashboard's
 * (stack/grafana/dashboards/ai-gateway.json) title for title, on the same metrics
 * (tests/static/dashboard-page.test.ts holds them equal); the store section is the page's own.
 */
import * as stats from "../../plugins/ai-statistics/metrics.ts";
import * as quota from "../../plugins/ai-quota/metrics.ts";
import * as limiter from "../../plugins/ai-token-ratelimit/metrics.ts";

/** The page, on the gateway's admin (stats) port. */
export const DASHBOARD_PATH = "/dashboard";
/** Its data: the JSON below, computed when asked (nothing is kept or sampled between asks). */
export const DATA_PATH = "/dashboard/data";
/** This module as the page imports it. */
export const PANELS_SCRIPT = "/dashboard/panels.js";
/** Whether the admin listener hands a request for `url` to the dashboard. */
export function isDashboardPath(url: string | undefined): boolean {
  const path = (url ?? "").split("?")[0];
  return path === DASHBOARD_PATH || path.startsWith(`${DASHBOARD_PATH}/`);
}
export const TITLE = "AI gateway: tokens, rate limits and quota";
/** How often the page asks for data, and how much of it the graphs keep. */
export const POLL_MS = 2000;
export const HISTORY_SECONDS = 300;

/**
 * Field names of the data JSON: `{time, panels: {<panel id>: {rows: [{key, values: {<column id>: …}}], note?}}}`,
 * `time` in ms since the epoch. A series row's values are `value` (a counter) or `sum` and `count`
 * (a mean's); a table row's are its columns' ids.
 */
export const FIELDS = { time: "time", panels: "panels", rows: "rows", key: "key", values: "values", note: "note", value: "value", sum: "sum", count: "count" } as const;

/** What a graph's legend shows beside each series, by the name the page gives each cell (`data-column`). */
export const LEGEND = {
  /** Per second over the last poll (rates), or the mean over it (means). */
  last: "last",
  /** A rate's increase over the graph's window: what was counted while the page watched. */
  increase: "increase",
  /** A mean's sum over count since the gateway started. */
  mean: "mean",
} as const;

/** The four AI labels (host/stats-tags.ts), and `provider`: Grafana's label_replace of ai_cluster by PROVIDER_PATTERN. */
export type Label = "ai_route" | "ai_cluster" | "ai_model" | "ai_consumer" | "provider";
/** Higress's name for an AI service, `outbound|<port>||llm-<provider>.internal.dns`; another cluster is its own provider. */
export const PROVIDER_PATTERN = "^outbound\\|[0-9]+\\|\\|llm-(.+)\\.internal\\.dns$";

/** A counter summed by labels; `legend` names each series, `{{label}}` replaced as in Grafana's legendFormat. */
export interface Series {
  legend: string;
  metric: string;
  by?: Label[];
}
/** A mean: `sum` over `count`, both summed by labels. */
export interface MeanSeries {
  legend: string;
  sum: string;
  count: string;
  by?: Label[];
}
export interface Column {
  id: string;
  title: string;
  /** The counter a metric table's column sums; store tables have none. */
  metric?: string;
  /** Shown as text, not as a number. */
  text?: boolean;
}

interface Titled {
  id: string;
  title: string;
}
/** Graphs: a rate per second of counters, or a mean per interval. */
export interface RatePanel extends Titled { kind: "rate"; unit: string; series: Series[] }
export interface MeanPanel extends Titled { kind: "mean"; unit: string; series: MeanSeries[] }
/** Totals since the gateway started: a table by one label, bars or big numbers by series. */
export interface TablePanel extends Titled { kind: "table"; by: Label; keyTitle: string; columns: Column[] }
export interface SeriesTotalsPanel extends Titled { kind: "bars" | "stat"; series: Series[] }
/** Read from Redis when asked: ai-quota's quota keys, ai-token-ratelimit's counters. */
export interface StorePanel extends Titled { kind: "quota" | "windows"; keyTitle: string; columns: Column[] }
export type Panel = RatePanel | MeanPanel | TablePanel | SeriesTotalsPanel | StorePanel;

export interface Section {
  title: string;
  panels: Panel[];
}

/** Each panel's id: its `data-panel` on the page and its key in the data JSON's `panels`. */
export const PANEL_IDS = {
  tokensPerSecond: "tokens-per-second",
  inputByModel: "input-by-model",
  outputByModel: "output-by-model",
  firstTokenLatency: "first-token-latency",
  requestDuration: "request-duration",
  usageByProvider: "usage-by-provider",
  usageByModel: "usage-by-model",
  usageByConsumer: "usage-by-consumer",
  rejectionsByReason: "rejections-by-reason",
  rejectionsByConsumer: "rejections-by-consumer",
  quotaCharged: "quota-charged",
  ratelimitCharged: "ratelimit-charged",
  storeFailures: "store-failures",
  chargeFailures: "charge-failures",
  remainingQuota: "remaining-quota",
  rateLimitWindows: "rate-limit-windows",
} as const;

/** The token columns of the usage and charge tables. */
export const USAGE_COLUMNS = { input: "input", output: "output", total: "total", estimated: "estimated" } as const;
const usageColumns = (input: string, output: string, third: { id: string; title: string; metric: string }): Column[] => [
  { id: USAGE_COLUMNS.input, title: "Input tokens", metric: input },
  { id: USAGE_COLUMNS.output, title: "Output tokens", metric: output },
  third,
];
const tokenUsage = usageColumns(stats.INPUT_TOKEN_METRIC, stats.OUTPUT_TOKEN_METRIC, { id: USAGE_COLUMNS.total, title: "Total tokens", metric: stats.TOTAL_TOKEN_METRIC });
const estimated = (metric: string) => ({ id: USAGE_COLUMNS.estimated, title: "Estimated tokens", metric });

/** ai-quota's remaining tokens per consumer: `<redis_key_prefix><consumer>` (an absent key is 0). */
export const QUOTA_COLUMNS = { remaining: "remaining", key: "key" } as const;
/** ai-token-ratelimit's counters: one row per counter key, its window's tokens used and seconds left. */
export const WINDOW_COLUMNS = { rule: "rule", limitedBy: "limited_by", window: "window", used: "used", limit: "limit", remaining: "remaining", reset: "reset" } as const;

export const SECTIONS: Section[] = [
  {
    title: "Tokens (ai-statistics)",
    panels: [
      { id: PANEL_IDS.tokensPerSecond, title: "Tokens per second", kind: "rate", unit: "tokens/s", series: [
        { legend: "input", metric: stats.INPUT_TOKEN_METRIC },
        { legend: "output", metric: stats.OUTPUT_TOKEN_METRIC },
        { legend: "total", metric: stats.TOTAL_TOKEN_METRIC },
      ] },
      { id: PANEL_IDS.inputByModel, title: "Input tokens per second by model", kind: "rate", unit: "tokens/s", series: [{ legend: "{{ai_model}}", metric: stats.INPUT_TOKEN_METRIC, by: ["ai_model"] }] },
      { id: PANEL_IDS.outputByModel, title: "Output tokens per second by model", kind: "rate", unit: "tokens/s", series: [{ legend: "{{ai_model}}", metric: stats.OUTPUT_TOKEN_METRIC, by: ["ai_model"] }] },
      { id: PANEL_IDS.firstTokenLatency, title: "First token latency by model", kind: "mean", unit: "ms", series: [
        { legend: "{{ai_model}}", sum: stats.FIRST_TOKEN_DURATION_METRIC, count: stats.STREAM_DURATION_COUNT_METRIC, by: ["ai_model"] },
      ] },
      { id: PANEL_IDS.requestDuration, title: "Request duration by model", kind: "mean", unit: "ms", series: [
        { legend: "{{ai_model}}", sum: stats.SERVICE_DURATION_METRIC, count: stats.DURATION_COUNT_METRIC, by: ["ai_model"] },
      ] },
      { id: PANEL_IDS.usageByProvider, title: "Usage by provider", kind: "table", by: "provider", keyTitle: "Provider", columns: tokenUsage },
      { id: PANEL_IDS.usageByModel, title: "Usage by model", kind: "table", by: "ai_model", keyTitle: "Model", columns: tokenUsage },
      { id: PANEL_IDS.usageByConsumer, title: "Usage by consumer", kind: "table", by: "ai_consumer", keyTitle: "Consumer", columns: tokenUsage },
    ],
  },
  {
    title: "Rejections (ai-quota, ai-token-ratelimit)",
    panels: [
      { id: PANEL_IDS.rejectionsByReason, title: "Rejections by reason", kind: "bars", series: [
        { legend: "429 over a rate limit", metric: limiter.RATE_LIMITED_METRIC },
        { legend: "403 no quota left", metric: quota.NO_QUOTA_METRIC },
        { legend: "400 request body refused (ai-quota)", metric: quota.REQUEST_BODY_REFUSED_METRIC },
        { legend: "400 request body refused (ai-token-ratelimit)", metric: limiter.REQUEST_BODY_REFUSED_METRIC },
        { legend: "431 limited value too long", metric: limiter.VALUE_TOO_LONG_METRIC },
      ] },
      { id: PANEL_IDS.rejectionsByConsumer, title: "Rejections per second by consumer", kind: "rate", unit: "rejections/s", series: [
        { legend: "{{ai_consumer}} over a rate limit", metric: limiter.RATE_LIMITED_METRIC, by: ["ai_consumer"] },
        { legend: "{{ai_consumer}} no quota left", metric: quota.NO_QUOTA_METRIC, by: ["ai_consumer"] },
      ] },
    ],
  },
  {
    title: "Charged tokens and the Redis store (ai-quota, ai-token-ratelimit)",
    panels: [
      { id: PANEL_IDS.quotaCharged, title: "Quota charged by consumer", kind: "table", by: "ai_consumer", keyTitle: "Consumer",
        columns: usageColumns(quota.INPUT_TOKEN_METRIC, quota.OUTPUT_TOKEN_METRIC, estimated(quota.ESTIMATED_TOKEN_METRIC)) },
      { id: PANEL_IDS.ratelimitCharged, title: "Rate limit charged by consumer", kind: "table", by: "ai_consumer", keyTitle: "Consumer",
        columns: usageColumns(limiter.INPUT_TOKEN_METRIC, limiter.OUTPUT_TOKEN_METRIC, estimated(limiter.ESTIMATED_TOKEN_METRIC)) },
      { id: PANEL_IDS.storeFailures, title: "Store failures by route", kind: "stat", series: [
        { legend: "ai-quota {{ai_route}}", metric: quota.STORE_FAILURE_METRIC, by: ["ai_route"] },
        { legend: "ai-token-ratelimit {{ai_route}}", metric: limiter.STORE_FAILURE_METRIC, by: ["ai_route"] },
      ] },
      { id: PANEL_IDS.chargeFailures, title: "Charge failures by route", kind: "stat", series: [
        { legend: "ai-quota {{ai_route}}", metric: quota.CHARGE_FAILURE_METRIC, by: ["ai_route"] },
        { legend: "ai-token-ratelimit {{ai_route}}", metric: limiter.CHARGE_FAILURE_METRIC, by: ["ai_route"] },
      ] },
    ],
  },
  {
    title: "Quota and rate-limit windows now (Redis)",
    panels: [
      { id: PANEL_IDS.remainingQuota, title: "Remaining quota by consumer", kind: "quota", keyTitle: "Consumer", columns: [
        { id: QUOTA_COLUMNS.remaining, title: "Remaining tokens" },
        { id: QUOTA_COLUMNS.key, title: "Redis key", text: true },
      ] },
      { id: PANEL_IDS.rateLimitWindows, title: "Rate-limit windows", kind: "windows", keyTitle: "Caller", columns: [
        { id: WINDOW_COLUMNS.rule, title: "Rule", text: true },
        { id: WINDOW_COLUMNS.limitedBy, title: "Limited by", text: true },
        { id: WINDOW_COLUMNS.window, title: "Window (s)" },
        { id: WINDOW_COLUMNS.used, title: "Used tokens" },
        { id: WINDOW_COLUMNS.limit, title: "Limit" },
        { id: WINDOW_COLUMNS.remaining, title: "Remaining" },
        { id: WINDOW_COLUMNS.reset, title: "Resets in (s)" },
      ] },
    ],
  },
];

/** Every panel, in page order. */
export const PANELS: Panel[] = SECTIONS.flatMap((s) => s.panels);

/** The panel with this id (tests and the server name panels by id). */
export function panel<K extends Panel["kind"]>(id: string, kind: K): PanelOfKind<K> {
  const found = PANELS.find((p) => p.id === id);
  if (!found || found.kind !== kind) throw new Error(`no dashboard panel ${id} of kind ${kind}`);
  return found as PanelOfKind<K>;
}
/** The panel type whose kinds include K ("bars" gives SeriesTotalsPanel). */
type PanelOfKind<K extends Panel["kind"]> = Panel extends infer P ? (P extends Panel ? (K extends P["kind"] ? P : never) : never) : never;
