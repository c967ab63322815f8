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
  const base = redisFixture();
  let upstream: Upstream | null = null;
  before(async () => {
    const started = await startUpstream(upstreamOptions);
    upstream = started;
    base.onClose(() => started.close());
  });
  return {
    get upstream() {
      return upstream!;
    },
    get redis() {
      return base.redis;
    },
    track: (gateway: Gateway) => base.track(gateway),
  };
}

export interface RedisFixture {
  readonly redis: RedisServer;
  /** Registers a gateway to check for a trapped VM and close after the file's tests; returns it. */
  track(gateway: Gateway): Gateway;
  /** Runs `close` after the file's tests (upstreams a test starts), last registered first. */
  onClose(close: () => Promise<void>): void;
}

/** For files whose tests each start their own upstreams: one redis-server, flushed before each test. */
export function redisFixture(): RedisFixture {
  let redis: RedisServer | null = null;
  const gateways: Gateway[] = [];
  const closers: Array<() => Promise<void>> = [];
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const g of gateways) assert.equal(g.chain.failed(), false, "the VM never trapped");
    for (const close of closers.reverse()) await close();
    await redis?.stop();
  });
  beforeEach(async () => {
    await redis!.flush();
  });
  return {
    get redis() {
      return redis!;
    },
    track(gateway: Gateway) {
      gateways.push(gateway);
      closers.push(() => gateway.close());
      return gateway;
    },
    onClose(close: () => Promise<void>) {
      closers.push(close);
    },
  };
}
