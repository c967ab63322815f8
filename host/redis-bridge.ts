/**
 * Higress's Redis host extension bridged to a real redis-server (proxy-wasm-abi.md §4): one lazily
 * opened connection per cluster shared by every plugin, AUTH/SELECT pipelined on each new connection
 * with their replies discarded, raw replies matched first-in first-out, and an operation timeout
 * that fails every pending call on the connection.
 */
import net from "node:net";
import { frameLength, encodeCommand, INCOMPLETE, PROTOCOL_ERROR } from "./resp.ts";

type ReplyHandler = (status: 0 | 1, reply: Uint8Array) => void;

const OK = 0;
const BAD_ARGUMENT = 2;
const DEFAULT_TIMEOUT_MS = 1000;

interface InitConfig {
  username: string;
  password: string;
  timeoutMs: number;
  db: number;
}

class ClusterClient {
  private socket: net.Socket | null = null;
  private connected = false;
  /** FIFO of reply handlers; null entries are AUTH/SELECT replies to discard. */
  private pending: Array<ReplyHandler | null> = [];
  private outbox: Buffer[] = [];
  private inbox: Buffer = Buffer.alloc(0);
  private flushTimer: NodeJS.Timeout | null = null;
  private opTimer: NodeJS.Timeout | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  config: InitConfig = { username: "", password: "", timeoutMs: DEFAULT_TIMEOUT_MS, db: 0 };

  constructor(private readonly host: string, private readonly port: number, private readonly flushMs: number, private readonly connectTimeoutMs: number) {}

  init(config: InitConfig): void {
    this.config = config;
    // Envoy closes every connection of the client on re-init; calls in flight fail.
    this.close();
  }

  call(query: Uint8Array, onReply: ReplyHandler): void {
    if (!this.socket) this.open();
    this.pending.push(onReply);
    this.outbox.push(Buffer.from(query));
    this.scheduleFlush();
    if (this.connected && !this.opTimer) this.armOpTimer();
  }

  private open(): void {
    const socket = net.connect({ host: this.host, port: this.port });
    this.socket = socket;
    this.connected = false;
    this.inbox = Buffer.alloc(0);
    const preamble: Buffer[] = [];
    const { username, password, db } = this.config;
    if (username) preamble.push(encodeCommand(["AUTH", username, password]));
    else if (password) preamble.push(encodeCommand(["AUTH", password]));
    if (db) preamble.push(encodeCommand(["SELECT", db]));
    this.pending.unshift(...preamble.map(() => null));
    this.outbox.unshift(...preamble);
    this.connectTimer = setTimeout(() => this.failAll(socket), this.connectTimeoutMs);
    socket.setNoDelay(true);
    socket.on("connect", () => {
      if (this.socket !== socket) return;
      clearTimeout(this.connectTimer!);
      this.connected = true;
      this.flush();
      if (this.pending.length > 0) this.armOpTimer();
    });
    socket.on("data", (chunk) => this.onData(socket, chunk));
    socket.on("error", () => this.failAll(socket));
    socket.on("close", () => this.failAll(socket));
  }

  private scheduleFlush(): void {
    if (this.flushTimer || !this.connected) return;
    this.flushTimer = this.flushMs > 0 ? setTimeout(() => this.flush(), this.flushMs) : (setImmediate(() => this.flush()) as unknown as NodeJS.Timeout);
  }

  private flush(): void {
    this.flushTimer = null;
    if (!this.socket || !this.connected || this.outbox.length === 0) return;
    this.socket.write(Buffer.concat(this.outbox));
    this.outbox = [];
  }

  private armOpTimer(): void {
    if (this.opTimer) clearTimeout(this.opTimer);
    const socket = this.socket;
    this.opTimer = setTimeout(() => socket && this.failAll(socket), this.config.timeoutMs);
  }

  private onData(socket: net.Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    this.inbox = this.inbox.length ? Buffer.concat([this.inbox, chunk]) : chunk;
    for (;;) {
      const len = frameLength(this.inbox);
      if (len === INCOMPLETE) break;
      if (len === PROTOCOL_ERROR || this.pending.length === 0) {
        this.failAll(socket);
        return;
      }
      const reply = Uint8Array.prototype.slice.call(this.inbox, 0, len);
      this.inbox = this.inbox.subarray(len);
      const handler = this.pending.shift()!;
      if (handler) handler(0, reply);
      if (this.socket !== socket) return;
    }
    if (this.pending.length > 0) this.armOpTimer();
    else if (this.opTimer) {
      clearTimeout(this.opTimer);
      this.opTimer = null;
    }
  }

  /** Closes the connection and fails every pending call with status 1, asynchronously. */
  private failAll(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.connected = false;
    for (const timer of [this.flushTimer, this.opTimer, this.connectTimer]) if (timer) clearTimeout(timer as NodeJS.Timeout);
    this.flushTimer = this.opTimer = this.connectTimer = null;
    const failed = this.pending;
    this.pending = [];
    this.outbox = [];
    socket.destroy();
    setImmediate(() => {
      for (const handler of failed) if (handler) handler(1, new Uint8Array(0));
    });
  }

  close(): void {
    if (this.socket) this.failAll(this.socket);
  }
}

export class RedisBridge {
  private clients = new Map<string, ClusterClient>();

  constructor(clusters: Record<string, { host: string; port: number }>, options: { flushMs?: number; connectTimeoutMs?: number } = {}) {
    for (const [name, target] of Object.entries(clusters)) {
      this.clients.set(name, new ClusterClient(target.host, target.port, options.flushMs ?? 0, options.connectTimeoutMs ?? 1000));
    }
  }

  private client(cluster: string): ClusterClient | undefined {
    return this.clients.get(cluster.split("?")[0]);
  }

  /** cluster may carry "?db=N"; 0 Ok, 2 BadArgument for an unknown cluster. No I/O. */
  init(cluster: string, username: string, password: string, timeoutMs: number): number {
    const client = this.client(cluster);
    if (!client) return BAD_ARGUMENT;
    const params = new URLSearchParams(cluster.includes("?") ? cluster.slice(cluster.indexOf("?") + 1) : "");
    client.init({ username, password, timeoutMs: timeoutMs || DEFAULT_TIMEOUT_MS, db: Number(params.get("db") ?? 0) || 0 });
    return OK;
  }

  /** One RESP command; 0 Ok (onReply runs later, exactly once), 2 unknown cluster. */
  call(cluster: string, query: Uint8Array, onReply: ReplyHandler): number {
    const client = this.client(cluster);
    if (!client) return BAD_ARGUMENT;
    client.call(query, onReply);
    return OK;
  }

  async close(): Promise<void> {
    for (const client of this.clients.values()) client.close();
  }
}
