/** `npm start` (scripts/start.ts) as a child process, read as a user reads it: the banner's address and keys. */
import { spawn } from "node:child_process";
import { waitFor } from "./net.ts";
import { repoRoot } from "./paths.ts";

export interface RunningStart {
  /** The gateway's address from `gateway on …`. */
  base: string;
  /** The dashboard page's address from `dashboard: …`. */
  dashboard: string;
  /** The x-api-key the banner prints for a consumer. */
  key(consumer: string): string;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

/** Ports default to free ones (PORT and STATS_PORT 0), so several can run at once. */
export async function runNpmStart(env: Record<string, string> = {}): Promise<RunningStart> {
  const child = spawn(process.execPath, ["--import", "tsx", `${repoRoot}scripts/start.ts`], { env: { ...process.env, PORT: "0", STATS_PORT: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    child.kill("SIGINT");
    await exited;
  };
  try {
    // Wait for the whole banner: stdout can arrive in several chunks.
    await waitFor(() => output.includes("# chat as aliyun-user1"), 20000);
  } catch (e) {
    await stop();
    throw new Error(`npm start did not print its banner: ${output}`, { cause: e });
  }
  return {
    base: /gateway on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1],
    dashboard: /dashboard: (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(output)![1],
    key: (consumer) => new RegExp(`${consumer}\\s+x-api-key: (\\S+)`).exec(output)![1],
    output: () => output,
    stop,
  };
}
