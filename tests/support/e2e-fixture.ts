/**
 * The setup most end-to-end files repeat: one upstream and one redis-server for the file, Redis
 * flushed before each test, and every gateway checked for a trapped VM and closed at the end.
 */
import { before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import type { Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream, type UpstreamOptions } from "./upstream.ts";
import { startRedis, type RedisServer } from "./redis.ts";

export interface E2eFixture {
  readonly upstream: Upstream;
  readonly redis: RedisServer;
  /** Registers a gateway to check and close after the file's tests; returns it. */
  track(gateway: Gateway): Gateway;
}

/** Call at the top level of a test file: registers the hooks and returns the fixture they fill. */
export function e2eFixture(upstreamOptions: UpstreamOptions = {}): E2eFixture {
  let upstream: Upstream | null = null;
  let redis: RedisServer | null = null;
  const gateways: Gateway[] = [];
  before(async () => {
    upstream = await startUpstream(upstreamOptions);
    redis = await startRedis();
  });
  after(async () => {
    for (const g of gateways) {
      assert.equal(g.chain.failed(), false, "the VM never trapped");
      await g.close();
    }
    await upstream?.close();
    await redis?.stop();
  });
  beforeEach(async () => {
    await redis!.flush();
  });
  return {
    get upstream() {
      return upstream!;
    },
    get redis() {
      return redis!;
    },
    track(gateway: Gateway) {
      gateways.push(gateway);
      return gateway;
    },
  };
}
