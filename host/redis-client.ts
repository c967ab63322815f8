/**
 * A small promise-based RESP client over one TCP connection, opened on the first command and again
 * after it closed: what reads Redis outside the plugins (the dashboard's store panels, the tests'
 * assertions). AUTH and SELECT are sent first when the target has them; a Redis error reply
 * resolves as an Error value, a connection that closes resolves what was pending as one too.
 */
import net from "node:net";
import { encodeCommand, decodeReply, frameLength, INCOMPLETE, type RespValue } from "./resp.ts";

export interface RedisClientTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  database?: number;
}

export class RespClient {
  private socket: Promise<net.Socket> | null = null;
  private inbox = Buffer.alloc(0);
  private waiting: Array<(v: RespValue) => void> = [];
  /** Why the connection was closed by us (a refused AUTH or SELECT): what the commands pending on it get. */
  private closedBecause: Error | null = null;

  constructor(private readonly target: RedisClientTarget) {}

  private connect(): Promise<net.Socket> {
    if (this.socket) return this.socket;
    const opened = new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: this.target.host, port: this.target.port });
      socket.once("connect", () => resolve(socket)).once("error", reject);
      socket.on("data", (chunk) => {
        this.inbox = this.inbox.length ? Buffer.concat([this.inbox, chunk]) : chunk;
        for (;;) {
          const len = frameLength(this.inbox);
          if (len === INCOMPLETE || len < 0) break;
          const { value } = decodeReply(this.inbox);
          this.inbox = this.inbox.subarray(len);
          this.waiting.shift()?.(value);
        }
      });
      socket.on("error", () => undefined);
      socket.on("close", () => {
        if (this.socket === opened) this.socket = null;
        this.inbox = Buffer.alloc(0);
        const reason = this.closedBecause ?? new Error("connection closed");
        this.closedBecause = null;
        for (const w of this.waiting.splice(0)) w(reason);
      });
    });
    this.socket = opened;
    opened.catch(() => {
      if (this.socket === opened) this.socket = null;
    });
    const { username, password, database } = this.target;
    // Queued before any caller's command, so they go first on the connection. A refused one closes
    // it: commands after a refused SELECT would read database 0 without an error.
    const refused = (reply: RespValue) => {
      if (!(reply instanceof Error)) return;
      this.closedBecause = reply;
      void opened.then((s) => s.destroy());
    };
    if (password !== undefined) this.send(opened, username !== undefined ? ["AUTH", username, password] : ["AUTH", password]).then(refused, () => undefined);
    if (database) this.send(opened, ["SELECT", database]).then(refused, () => undefined);
    return opened;
  }

  private async send(opened: Promise<net.Socket>, args: Array<string | number>): Promise<RespValue> {
    const reply = new Promise<RespValue>((resolve) => this.waiting.push(resolve));
    const socket = await opened.catch((e) => {
      this.waiting.splice(0);
      throw e;
    });
    socket.write(encodeCommand(args));
    return reply;
  }

  /** Rejects when the connection cannot be opened; a Redis error reply is an Error value. */
  command(...args: Array<string | number>): Promise<RespValue> {
    return this.send(this.connect(), args);
  }

  close(): void {
    const opened = this.socket;
    this.socket = null;
    void opened?.then((s) => s.destroy(), () => undefined);
  }
}
