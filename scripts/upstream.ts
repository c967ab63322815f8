/** The built-in OpenAI-compatible upstream as a server of its own (docker-compose's `upstream` service). */
import { startUpstream } from "../tests/support/upstream.ts";

const upstream = await startUpstream({ host: process.env.HOST ?? "127.0.0.1", port: Number(process.env.PORT ?? 8000) });
console.log(`OpenAI-compatible upstream on ${upstream.url}`);
process.on("SIGTERM", () => upstream.close().then(() => process.exit(0)));
process.on("SIGINT", () => upstream.close().then(() => process.exit(0)));
