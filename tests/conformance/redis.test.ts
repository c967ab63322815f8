import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET, type Host } from "../../host/direct.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { probeWasm } from "../support/paths.ts";
import { waitFor } from "../support/net.ts";

const CLUSTER = "outbound|6379||redis.static";
let redis: RedisServer;

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
});

async function probeWithRedis(bridge = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: redis.port } })): Promise<{ host: Host; bridge: RedisBridge }> {
  const host = await createHost({ wasm: probeWasm("hostcalls"), config: { target: `redis:${CLUSTER}` }, redis: bridge });
  return { host, bridge };
}

const redisOp = (operation: string, arg: string) => GET("/", [["x-test-operation", operation], ["x-test-arg", arg]]);

test("an unknown cluster answers BadArgument at dispatch (item 18)", async () => {
  const { host, bridge } = await probeWithRedis();
  assert.equal(host.newStream().sendRequestHeaders(redisOp("redis-unknown-cluster", ""), true).response()?.body, "dispatch=2");
  await bridge.close();
});

test("the reply arrives later on the root id with buffer 9 holding the exact raw bytes (item 18)", async () => {
  const { host, bridge } = await probeWithRedis();
  await redis.client.set("k", "value");
  const s = host.newStream().sendRequestHeaders(redisOp("redis-get", "k"), true);
  assert.equal(s.response(), null, "never inside the host call");
  await waitFor(() => s.response() !== null);
  assert.equal(s.response()?.status, 200);
  assert.equal(s.response()?.body, "$5\r\nvalue\r\n");
  const delivery = host.chain.vms[0].trace.find((t) => t[0] === "proxy_on_redis_call_response");
  assert.deepEqual(delivery?.slice(1, 4), [1, 7, 0], "root id 1, first token 7, status 0");
  await bridge.close();
});

test("tokens go 7, 11, 15 and an error reply comes with status 0 (item 18)", async () => {
  const { host, bridge } = await probeWithRedis();
  const streams = [0, 1, 2].map(() => host.newStream().sendRequestHeaders(redisOp("redis-raw", "*1\\r\\n$5\\r\\nBOGUS\\r\\n"), true));
  await waitFor(() => streams.every((s) => s.response() !== null));
  const tokens = host.chain.vms[0].trace.filter((t) => t[0] === "proxy_on_redis_call_response").map((t) => t[2]);
  assert.deepEqual(tokens, [7, 11, 15]);
  assert.equal(streams[0].response()?.status, 200);
  assert.match(streams[0].response()?.body ?? "", /^-ERR unknown command/);
  await bridge.close();
});

test("a paused request resumes from the Redis callback through the effective context (items 11, 18)", async () => {
  const { host, bridge } = await probeWithRedis();
  const s = host.newStream().sendRequestHeaders(redisOp("redis-continue", ""), true);
  assert.equal(s.upstream.headers, null);
  await waitFor(() => s.upstream.headers !== null);
  assert.deepEqual(s.upstreamHeader("x-redis-status"), ["0"]);
  await bridge.close();
});

test("a reply for a stream that is gone is dropped without a trap", async () => {
  const { host, bridge } = await probeWithRedis();
  const s = host.newStream().sendRequestHeaders(redisOp("redis-get", "k"), true);
  s.reset();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(host.chain.failed(), false);
  assert.equal(s.response(), null);
  await bridge.close();
});

test("killing redis-server mid-call yields status 1 to the plugin, never a hang (item 18)", async () => {
  const { host, bridge } = await probeWithRedis();
  await redis.client.command("SET", "slow", "1");
  // DEBUG SLEEP holds the server so the probe's call is in flight when it dies.
  void redis.client.command("DEBUG", "SLEEP", "2");
  await new Promise((r) => setTimeout(r, 50));
  const s = host.newStream().sendRequestHeaders(redisOp("redis-get", "slow"), true);
  await new Promise((r) => setTimeout(r, 50));
  await redis.kill();
  await waitFor(() => s.response() !== null, 2000);
  assert.equal(s.response()?.status, 503);
  assert.deepEqual(s.response()?.headers.filter(([k]) => k === "x-redis-status"), [["x-redis-status", "1"]]);
  await redis.restart();
  await bridge.close();
});

test("an operation timeout fails every pending call on the connection (item 18)", async () => {
  const bridge = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: redis.port } });
  const host = await createHost({ wasm: probeWasm("hostcalls"), config: { target: `redis:${CLUSTER}` }, redis: bridge });
  // The probe inits with a 1000 ms timeout; pause the server past it.
  const warm = host.newStream().sendRequestHeaders(redisOp("redis-get", "warm"), true);
  await waitFor(() => warm.response() !== null);
  const paused = redis.pause(1500);
  const streams = [0, 1, 2].map(() => host.newStream().sendRequestHeaders(redisOp("redis-get", "k"), true));
  const started = Date.now();
  await waitFor(() => streams.every((s) => s.response() !== null), 3000);
  assert.ok(Date.now() - started < 1400, "failed by the 1000 ms timeout, not by the server coming back");
  assert.deepEqual(streams.map((s) => s.response()?.status), [503, 503, 503]);
  await paused;
  await bridge.close();
});

test("AUTH and SELECT are applied on new connections; a wrong password shows as an error reply with status 0 (item 18)", async () => {
  const secured = await startRedis({ password: "s3cret" });
  try {
    const good = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: secured.port } });
    good.init(`${CLUSTER}?db=3`, "", "s3cret", 1000);
    const reply = await new Promise<string>((resolve) => good.call(CLUSTER, Buffer.from("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv3\r\n"), (_s, r) => resolve(Buffer.from(r).toString())));
    assert.equal(reply, "+OK\r\n");
    await secured.client.command("SELECT", 3);
    assert.equal(await secured.client.get("k"), "v3");
    await good.close();
    const bad = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: secured.port } });
    bad.init(CLUSTER, "", "wrong", 1000);
    const [status, text] = await new Promise<[number, string]>((resolve) => bad.call(CLUSTER, Buffer.from("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), (s, r) => resolve([s, Buffer.from(r).toString()])));
    assert.equal(status, 0);
    assert.match(text, /^-NOAUTH/);
    await bad.close();
  } finally {
    await secured.stop();
  }
});

test("two commands in one query shift every later reply to the wrong caller (why plugins send one)", async () => {
  const bridge = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: redis.port } });
  const replies: string[] = [];
  const done = new Promise<void>((resolve) => {
    bridge.call(CLUSTER, Buffer.from("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$1\r\na\r\n"), (_s, r) => replies.push(Buffer.from(r).toString()));
    bridge.call(CLUSTER, Buffer.from("*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n"), (_s, r) => {
      replies.push(Buffer.from(r).toString());
      resolve();
    });
  });
  await done;
  assert.deepEqual(replies, ["+PONG\r\n", "$1\r\na\r\n"], "the second caller got the first caller's extra reply");
  await bridge.close();
});

test("re-init during traffic fails the calls in flight (item 18)", async () => {
  const bridge = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: redis.port } });
  void redis.client.command("DEBUG", "SLEEP", "0.3");
  await new Promise((r) => setTimeout(r, 20));
  const status = new Promise<number>((resolve) => bridge.call(CLUSTER, Buffer.from("*1\r\n$4\r\nPING\r\n"), (s) => resolve(s)));
  await new Promise((r) => setTimeout(r, 20));
  bridge.init(CLUSTER, "", "", 1000);
  assert.equal(await status, 1);
  await bridge.close();
});
