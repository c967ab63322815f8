/** A test file's own redis-server, kept apart from redis.ts so scripts that start Redis never load node:test. */
import { before, after, beforeEach } from "node:test";
import { startRedis, type RedisServer } from "./redis.ts";

/** Starts one redis-server for the calling test file and flushes it before each test; call the getter inside tests. */
export function redisPerFile(): () => RedisServer {
  let server: RedisServer | null = null;
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    await server!.flush();
  });
  return () => server!;
}
