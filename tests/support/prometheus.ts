/**
 * A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, scraping gateways'
 * /stats/prometheus every second with a temporary config and storage, read through its HTTP API.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, request, waitFor } from "./net.ts";

export const PROMETHEUS_BINARY = "/usr/bin/prometheus";
export const SCRAPE_INTERVAL_MS = 1000;
/** The path a Higress gateway (and the host's admin listener) serves its stats on. */
const METRICS_PATH = "/stats/prometheus";

/** One series of an instant query's answer; a scalar answer is one sample without labels. */
export interface PromSample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  url: string;
  /** The answer to `expr` evaluated at `timeMs` (now when absent); a query Prometheus refuses throws its error. */
  query(expr: string, timeMs?: number): Promise<PromSample[]>;
  /** The values of a label over every stored series (what Grafana's `label_values(label)` lists). */
  labelValues(label: string): Promise<string[]>;
  /**
   * Waits until every target has been scraped successfully at or after `afterMs` and returns the
   * time (ms) of each target's newest scrape, by its address.
   */
  scrapedAfter(afterMs: number): Promise<Map<string, number>>;
  /** What Prometheus logged, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

function config(targets: string[]): string {
  const list = targets.map((t) => JSON.stringify(t)).join(", ");
  return `global:\n  scrape_interval: ${SCRAPE_INTERVAL_MS}ms\n  evaluation_interval: ${SCRAPE_INTERVAL_MS}ms\n` +
    `scrape_configs:\n  - job_name: gateway\n    metrics_path: ${METRICS_PATH}\n    static_configs:\n      - targets: [${list}]\n`;
}

/** Starts Prometheus scraping `targets` (`host:port` of each gateway's stats listener) and waits until it is ready. */
export async function startPrometheus(targets: string[]): Promise<Prometheus> {
  if (!existsSync(PROMETHEUS_BINARY)) throw new Error(`${PROMETHEUS_BINARY} is missing: install it with apt-get install -y prometheus (.ci/run does)`);
  const dir = mkdtempSync(join(tmpdir(), "prometheus-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, "prometheus.yml"), config(targets));
  const child = spawn(PROMETHEUS_BINARY, [
    `--config.file=${join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${join(dir, "data")}`, `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ["ignore", "ignore", "pipe"] });
  live.add(child);
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await exited;
    }
    live.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };

  const api = async (path: string): Promise<any> => {
    const res = await request(`${url}${path}`);
    const body = JSON.parse(res.body);
    if (body.status !== "success") throw new Error(`Prometheus refused ${decodeURIComponent(path)}: ${body.errorType}: ${body.error}`);
    return body.data;
  };

  const query = async (expr: string, timeMs?: number): Promise<PromSample[]> => {
    const time = timeMs === undefined ? "" : `&time=${(timeMs / 1000).toFixed(3)}`;
    const data = await api(`/api/v1/query?query=${encodeURIComponent(expr)}${time}`);
    if (data.resultType === "scalar") return [{ metric: {}, value: Number(data.result[1]) }];
    if (data.resultType !== "vector") throw new Error(`${expr}: a ${data.resultType}, not an instant vector`);
    return data.result.map((r: { metric: Record<string, string>; value: [number, string] }) => ({ metric: r.metric, value: Number(r.value[1]) }));
  };

  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited: ${stderr.slice(-1000)}`);
      return (await request(`${url}/-/ready`).catch(() => null))?.status === 200;
    }, 30_000, 100);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    query,
    labelValues: async (label) => (await api(`/api/v1/label/${encodeURIComponent(label)}/values`)) as string[],
    scrapedAfter: async (afterMs) => {
      let newest = new Map<string, number>();
      await waitFor(async () => {
        const ups = await query("up");
        newest = new Map(ups.map((s) => [s.metric.instance, 0]));
        for (const s of await query("timestamp(up)")) newest.set(s.metric.instance, Math.round(s.value * 1000));
        return targets.every((t) => (newest.get(t) ?? 0) >= afterMs) && ups.every((s) => s.value === 1);
      }, 30_000, 100).catch(() => {
        throw new Error(`not every target was scraped successfully after ${afterMs}: ${JSON.stringify([...newest])} (log: ${stderr.slice(-500)})`);
      });
      return newest;
    },
    log: () => stderr,
    stop,
  };
}
