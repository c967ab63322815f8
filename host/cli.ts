/** `node --import tsx host/cli.ts <config.yaml>`: runs the host gateway until SIGINT/SIGTERM. */
import { startGateway } from "./gateway.ts";
import { printLogs } from "./log-printer.ts";
import { DASHBOARD_PATH } from "./dashboard/panels.ts";

const file = process.argv[2];
if (!file) {
  console.error("usage: node --import tsx host/cli.ts <config.yaml>");
  process.exit(2);
}
try {
  // Like Envoy's access log on /dev/stdout: one line per request.
  const gateway = await startGateway(file, { onAccessLog: (line) => process.stdout.write(line + "\n") });
  console.log(`listening on ${gateway.url}`);
  console.log(`admin (Prometheus stats at /stats/prometheus) on ${gateway.adminUrl}`);
  console.log(`dashboard: ${gateway.adminUrl}${DASHBOARD_PATH}`);
  printLogs(gateway);
  const stop = async () => {
    await gateway.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
