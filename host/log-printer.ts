/** Prints a gateway's log lines to stderr as they come, as Envoy does: the plugins' (at the config's log_level and above) and the router's. */
import type { Gateway } from "./gateway.ts";

const LEVELS = ["trace", "debug", "info", "warn", "error", "critical"];

export function printLogs(gateway: Gateway, out: NodeJS.WritableStream = process.stderr): void {
  let plugins = 0;
  let router = 0;
  setInterval(() => {
    const logs = gateway.logs();
    for (; plugins < logs.length; plugins++) out.write(`[${LEVELS[logs[plugins].level] ?? logs[plugins].level}] ${logs[plugins].plugin}: ${logs[plugins].message}\n`);
    const lines = gateway.routerLogs();
    for (; router < lines.length; router++) out.write(`[warn] router: ${lines[router]}\n`);
  }, 100).unref();
}
