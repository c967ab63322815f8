/**
 * The shipped Grafana dashboard as tests read it: its panels (rows' nested ones too), every query
 * of every panel, and its template variables.
 */
import { readFileSync } from "node:fs";
import { repoRoot } from "./paths.ts";

export const DASHBOARD_FILE = "stack/grafana/dashboards/ai-gateway.json";

export interface DashboardQuery {
  /** `<panel title>/<refId>`: names the query in messages and in the e2e test's expectations. */
  name: string;
  panel: string;
  refId: string;
  expr: string;
  legend: string;
  /** An instant query (tables, bar gauges, stats: one value for the time range), else a range query (graphs). */
  instant: boolean;
}

export interface TemplateVariable {
  name: string;
  /** `label_values(<label>)`: the label whose values it lists. */
  label: string;
  datasourceUid: string;
}

export function loadDashboard(): any {
  return JSON.parse(readFileSync(`${repoRoot}${DASHBOARD_FILE}`, "utf8"));
}

/** Every panel, a collapsed row's nested panels included, the rows themselves too. */
export function panels(dashboard: any = loadDashboard()): any[] {
  return (dashboard.panels as any[]).flatMap((p) => [p, ...(p.panels ?? [])]);
}

export function dashboardQueries(dashboard: any = loadDashboard()): DashboardQuery[] {
  return panels(dashboard).flatMap((p) => (p.targets ?? []).map((t: any) => ({
    name: `${p.title}/${t.refId}`, panel: p.title, refId: t.refId, expr: t.expr, legend: t.legendFormat ?? "", instant: t.instant === true,
  })));
}

export function templateVariables(dashboard: any = loadDashboard()): TemplateVariable[] {
  return (dashboard.templating?.list ?? []).map((v: any) => {
    const match = /^label_values\((\w+)\)$/.exec(v.query?.query ?? "");
    if (!match) throw new Error(`variable ${v.name}: a query other than label_values(<label>): ${JSON.stringify(v.query)}`);
    return { name: v.name, label: match[1], datasourceUid: v.datasource?.uid };
  });
}
