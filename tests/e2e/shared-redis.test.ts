import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET, type Host } from "../../host/direct.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { probeWasm } from "../support/paths.ts";
import { waitFor } from "../support/net.ts";

const CLUSTER = "outbound|6379||redis.dns";
let redis: RedisServer;
let bridge: RedisBridge;
let host: Host;

before(async () => {
  redis = await startRedis();
  bridge = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: redis.port } });
  host = await createHost({ wasm: probeWasm("redis-client"), config: { redis: { service_name: "redis.dns", database: 2 } }, redis: bridge });
});
after(async () => {
  await bridge.close();
  await redis.stop();
});
beforeEach(async () => {
  await redis.flush();
});

async function run(operation: string, key = "k"): Promise<string> {
  const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", operation], ["x-test-key", key]]), true);
  await waitFor(() => s.response() !== null);
  return s.response()!.body;
}

test("commands go to the database of the config block, in Higress's lower-case form", async () => {
  assert.equal(await run("set"), "text:OK");
  await redis.client.command("SELECT", 2);
  assert.equal(await redis.client.get("k"), "5");
  await redis.client.command("SELECT", 0);
  assert.equal(await redis.client.get("k"), null, "nothing written to db 0");
});

test("get, incrby, decrby, expire and eval answer with decoded replies", async () => {
  assert.equal(await run("get"), "null");
  assert.equal(await run("incrby"), "int:7");
  assert.equal(await run("decrby"), "int:4");
  assert.equal(await run("expire"), "int:1");
  assert.equal(await run("eval"), "array:text:k,text:2,int:6");
  assert.equal(await run("get"), "text:6");
});

test("a key with multi-byte characters is sent with its byte length", async () => {
  assert.equal(await run("set", "chat_quota:zürich"), "text:OK");
  assert.equal(await run("get", "chat_quota:zürich"), "text:5");
});

test("a stopped redis-server reaches the plugin as Higress's connection error, not a hang", async () => {
  await redis.kill();
  try {
    assert.equal(await run("get"), "error:cannot connect to redis cluster");
  } finally {
    await redis.restart();
  }
  assert.equal(await run("get"), "null", "serving again once Redis is back");
});

test("a configuration without a redis block is rejected with Higress's message", async () => {
  await assert.rejects(createHost({ wasm: probeWasm("redis-client"), config: {} }), /missing redis in config/);
  await assert.rejects(createHost({ wasm: probeWasm("redis-client"), config: { redis: { service_name: "" } } }), /redis service name must not be empty/);
});

test("a database the server lacks: Envoy drops SELECT's error, so commands land in database 0 (the READMEs warn)", async () => {
  const own = new RedisBridge({ [CLUSTER]: { host: "127.0.0.1", port: redis.port } });
  try {
    const lacking = await createHost({ wasm: probeWasm("redis-client"), config: { redis: { service_name: "redis.dns", database: 99 } }, redis: own });
    const s = lacking.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "set"], ["x-test-key", "k99"]]), true);
    await waitFor(() => s.response() !== null);
    assert.equal(s.response()!.body, "text:OK");
    await redis.client.command("SELECT", 0);
    assert.equal(await redis.client.get("k99"), "5");
  } finally {
    await own.close();
  }
});
