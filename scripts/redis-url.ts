/**
 * REDIS_URL for `npm start`: read as Redis clients read it, checked against the server before the
 * gateway starts, and handed to the plugins the way Higress's plugins take Redis credentials (their
 * own `redis.username`, `password` and `database`), since a gateway cluster is only an address.
 */
import net from "node:net";

export interface RedisTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  database?: number;
}

/** `redis://[user[:password]@]host[:port][/database]`; throws a message naming what is wrong. */
export function parseRedisUrl(text: string): RedisTarget {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error("is not a URL (redis://[user[:password]@]host[:port][/database])");
  }
  if (url.protocol !== "redis:") throw new Error(`must start with redis:// (Higress's Redis calls speak plain RESP), got ${url.protocol}//`);
  const target: RedisTarget = { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 6379) };
  if (url.username) target.username = decodeURIComponent(url.username);
  if (url.password) target.password = decodeURIComponent(url.password);
  const path = url.pathname.replace(/^\//, "");
  if (path !== "") {
    if (!/^\d+$/.test(path)) throw new Error(`database must be a number after the last /, got ${JSON.stringify(path)}`);
    target.database = Number(path);
  }
  return target;
}

/** RESP for one command. */
function command(...args: string[]): string {
  return `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("");
}

/**
 * AUTH and SELECT as the URL asks, then PING: resolves when every reply is a success, rejects with
 * Redis's own error (WRONGPASS, NOAUTH, a database out of range) or when nothing answers in time.
 */
export function checkRedis(target: RedisTarget, timeoutMs = 2000): Promise<void> {
  const commands: string[] = [];
  if (target.password !== undefined) commands.push(target.username !== undefined ? command("AUTH", target.username, target.password) : command("AUTH", target.password));
  if (target.database !== undefined) commands.push(command("SELECT", String(target.database)));
  commands.push(command("PING"));
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    let text = "";
    const done = (error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.once("connect", () => socket.write(commands.join("")));
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      // Every reply to these commands is one line: +OK / +PONG, or -ERR….
      const replies = text.split("\r\n").filter((line) => line.length > 0);
      const error = replies.find((line) => line.startsWith("-"));
      if (error) done(new Error(`Redis answered ${error.slice(1)}`));
      else if (replies.length >= commands.length) done();
    });
    socket.once("error", (e) => done(e));
  });
}

/** Sets the URL's credentials and database on every `redis` object of a plugin config (global and `_rules_`). */
export function withRedisCredentials(config: Record<string, any>, target: RedisTarget): Record<string, any> {
  const fill = (o: Record<string, any>) => {
    if (!o || typeof o.redis !== "object" || o.redis === null) return o;
    const redis = { ...o.redis };
    if (target.username !== undefined) redis.username = target.username;
    if (target.password !== undefined) redis.password = target.password;
    if (target.database !== undefined) redis.database = target.database;
    return { ...o, redis };
  };
  const out = fill(config);
  if (Array.isArray(config._rules_)) out._rules_ = config._rules_.map(fill);
  return out;
}
