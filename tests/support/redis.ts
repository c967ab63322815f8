/** A real redis-server per test file, on a free loopback port (never 6379), plus a small client to read state. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import net from "node:net";
import { RespClient } from "../../host/redis-client.ts";
import { encodeCommand } from "../../host/resp.ts";
import { freePort, waitFor } from "./net.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";

/** The host's RESP client on a test's redis-server, with the readers assertions use; a real TCP client, not a mock. */
export class RedisClient extends RespClient {
  constructor(port: number, password?: string) {
    super({ host: "127.0.0.1", port, password });
  }

  async get(key: string): Promise<string | null> {
    return (await this.command("GET", key)) as string | null;
  }
  async set(key: string, value: string | number): Promise<void> {
    await this.command("SET", key, value);
  }
  async ttl(key: string): Promise<number> {
    return (await this.command("TTL", key)) as number;
  }
  async keys(pattern = "*"): Promise<string[]> {
    return ((await this.command("KEYS", pattern)) as string[]).sort();
  }
}

export interface RedisServer {
  host: string;
  port: number;
  url: string;
  client: RedisClient;
  flush(): Promise<void>;
  /** SIGKILL: connections break at once (fault tests). */
  kill(): Promise<void>;
  /** Starts it again on the same port after kill() or stop(). */
  restart(): Promise<void>;
  /** SIGSTOP for `ms`: connected clients see no answer (timeouts), then SIGCONT. */
  pause(ms: number): Promise<void>;
  stop(): Promise<void>;
}

function requireRedis(): void {
  const probe = spawnSync("redis-server", ["--version"]);
  if (probe.error) throw new Error("redis-server is not on PATH: install it with apt-get install -y redis-server");
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  requireRedis();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "redis-"));
  let child: ChildProcess;
  const client = new RedisClient(port, options.password);

  const launch = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir, "--enable-debug-command", "local"];
    if (options.password) args.push("--requirepass", options.password);
    child = spawn("redis-server", args, { stdio: "ignore" });
    live.add(child);
    await waitFor(async () => {
      try {
        const probe = new RedisClient(port, options.password);
        const pong = await probe.command("PING");
        probe.close();
        return pong === "PONG";
      } catch {
        return false;
      }
    }, 5000);
  };
  const halt = async (signal: NodeJS.Signals) => {
    client.close();
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
    live.delete(child);
  };
  await launch();
  return {
    host: "127.0.0.1",
    port,
    url: `redis://127.0.0.1:${port}`,
    client,
    flush: async () => void (await client.command("FLUSHALL")),
    kill: () => halt("SIGKILL"),
    restart: async () => {
      await halt("SIGKILL");
      await launch();
    },
    pause: async (ms: number) => {
      child.kill("SIGSTOP");
      await new Promise((r) => setTimeout(r, ms));
      child.kill("SIGCONT");
    },
    stop: async () => {
      await halt("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs `body` with a host bridge to `server` named `cluster` (as Higress names it), closed afterwards. */
export async function withBridge<T>(server: RedisServer, cluster: string, body: (bridge: RedisBridge) => Promise<T>): Promise<T> {
  const bridge = new RedisBridge({ [cluster]: { host: "127.0.0.1", port: server.port } });
  try {
    return await body(bridge);
  } finally {
    await bridge.close();
  }
}

/** What a MONITOR connection saw: every command a client sent, in order (not those scripts ran). */
export interface RedisMonitor {
  /** Command names in lower case, e.g. ["eval", "decrby"], of clients other than this test's own reader. */
  commands(): string[];
  stop(): void;
}

/** Starts MONITOR on `server`: commands sent from now on are recorded until stop(). */
export async function monitorRedis(server: RedisServer): Promise<RedisMonitor> {
  const socket = net.connect(server.port, server.host);
  let text = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => void (text += chunk));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.write(encodeCommand(["MONITOR"]));
    const ready = () => (text.startsWith("+OK\r\n") ? resolve() : setTimeout(ready, 5));
    ready();
  });
  return {
    commands: () =>
      text
        .split("\r\n")
        // `+<time> [<db> <client>] "<command>" ...`; a script's own calls show `[<db> lua]`.
        .map((line) => /^\+[\d.]+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null && match[1] !== "lua")
        .map((match) => match[2].toLowerCase()),
    stop: () => socket.destroy(),
  };
}
