/**
 * The dashboard on the gateway's admin port: the page's files (page/, read once), its panel
 * definitions as a script (panels.ts, as JSON), and its data, computed when asked from the
 * gateway's own counters (metric-panels.ts) and from Redis (store-panels.ts). The gateway loads
 * this module on the first request for the page: until someone looks, it costs nothing.
 */
import type http from "node:http";
import { readFileSync } from "node:fs";
import type { GatewayConfig } from "../gateway-config.ts";
import type { MetricSample } from "../stream-api.ts";
import { metricPanels } from "./metric-panels.ts";
import { StorePanels } from "./store-panels.ts";
import { storeSources } from "./store-sources.ts";
import { DASHBOARD_PATH, DATA_PATH, FIELDS, HISTORY_SECONDS, LEGEND, PANEL_IDS, PANELS_SCRIPT, POLL_MS, SECTIONS, TITLE } from "./panels.ts";

/** The page's own files, by path. */
const FILES: Record<string, { file: string; type: string }> = {
  [DASHBOARD_PATH]: { file: "index.html", type: "text/html; charset=utf-8" },
  [`${DASHBOARD_PATH}/page.js`]: { file: "page.js", type: "text/javascript; charset=utf-8" },
  [`${DASHBOARD_PATH}/chart.js`]: { file: "chart.js", type: "text/javascript; charset=utf-8" },
  [`${DASHBOARD_PATH}/style.css`]: { file: "style.css", type: "text/css; charset=utf-8" },
};

/** panels.ts as the page imports it: its constants, as data. */
const panelsScript = `export default ${JSON.stringify({ DATA_PATH, TITLE, POLL_MS, HISTORY_SECONDS, FIELDS, LEGEND, SECTIONS })};\n`;

export interface DashboardSource {
  config: GatewayConfig;
  metrics(): MetricSample[];
}

export interface Dashboard {
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  close(): void;
}

export function createDashboard(source: DashboardSource): Dashboard {
  const store = new StorePanels(storeSources(source.config));
  const files = new Map<string, Buffer>();
  const read = (file: string) => files.get(file) ?? files.set(file, readFileSync(new URL(`./page/${file}`, import.meta.url))).get(file)!;
  return {
    async handle(req, res) {
      const path = (req.url ?? "").split("?")[0];
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end(`${req.method} is not served here: the dashboard is read with GET\n`);
        return;
      }
      // Everything is computed per request: nothing may be cached by a browser between two polls.
      const headers = { "cache-control": "no-store" };
      if (path === DATA_PATH) {
        const panels = { ...metricPanels(source.metrics()), ...(await store.panels(PANEL_IDS.remainingQuota, PANEL_IDS.rateLimitWindows)) };
        res.writeHead(200, { ...headers, "content-type": "application/json" }).end(JSON.stringify({ [FIELDS.time]: Date.now(), [FIELDS.panels]: panels }));
      } else if (path === PANELS_SCRIPT) {
        res.writeHead(200, { ...headers, "content-type": "text/javascript; charset=utf-8" }).end(panelsScript);
      } else if (FILES[path]) {
        res.writeHead(200, { ...headers, "content-type": FILES[path].type }).end(read(FILES[path].file));
      } else {
        res.writeHead(404, { "content-type": "text/plain" }).end(`no such dashboard path: ${path} (the page is ${DASHBOARD_PATH})\n`);
      }
    },
    close: () => store.close(),
  };
}
