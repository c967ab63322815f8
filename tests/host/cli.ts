/** `node --import tsx tests/host/cli.ts <config.yaml>`: runs the host gateway until SIGINT/SIGTERM. */
import { startGateway } from "./gateway.ts";

const file = process.argv[2];
if (!file) {
  console.error("usage: node --import tsx tests/host/cli.ts <config.yaml>");
  process.exit(2);
}
try {
  // Like Envoy's access log on /dev/stdout: one line per request.
  const gateway = await startGateway(file, { onAccessLog: (line) => process.stdout.write(line + "\n") });
  console.log(`listening on ${gateway.url}`);
  console.log(`admin (Prometheus stats at /stats/prometheus) on ${gateway.adminUrl}`);
  // Like Envoy, print the plugins' log lines (at the config's log_level and above) to stderr.
  const LEVELS = ["trace", "debug", "info", "warn", "error", "critical"];
  let printed = 0;
  setInterval(() => {
    const logs = gateway.logs();
    for (; printed < logs.length; printed++) process.stderr.write(`[${LEVELS[logs[printed].level] ?? logs[printed].level}] ${logs[printed].plugin}: ${logs[printed].message}\n`);
  }, 100).unref();
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
