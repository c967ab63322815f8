/**
 * Higress keeps one Redis client per cluster on each worker, shared by every plugin: proxy_redis_init
 * replaces that client's config (higress-group/envoy envoy-1.27, Context::redisInit →
 * ThreadLocalCluster::redisAsyncClient().initialize), so the last plugin to init sets the database,
 * credentials and timeout for all. Higress's maintainers confirm it and advise one cluster name per
 * database (higress-group/higress#1678). Two VMs on one RedisBridge are two plugins on one worker.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET, type Host } from "../../host/direct.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";
import { redisPerFile } from "../support/redis-per-file.ts";
import { probeWasm } from "../support/paths.ts";
import { waitFor } from "../support/net.ts";

const server = redisPerFile();

const plugin = (bridge: RedisBridge, name: string, redisConfig: Record<string, unknown>) =>
  createHost({ wasm: probeWasm("redis-client"), name, config: { redis: redisConfig }, redis: bridge });

async function run(host: Host, operation: string, key: string): Promise<string> {
  const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", operation], ["x-test-key", key]]), true);
  await waitFor(() => s.response() !== null, 8000);
  return s.response()!.body;
}

async function keysIn(db: number): Promise<string[]> {
  await server().client.command("SELECT", db);
  const keys = (await server().client.keys()).sort();
  await server().client.command("SELECT", 0);
  return keys;
}

test("two plugins on one cluster share its client: the last init's database takes both plugins' writes", async () => {
  const bridge = new RedisBridge({ "outbound|6379||redis.dns": { host: "127.0.0.1", port: server().port } });
  const first = await plugin(bridge, "first", { service_name: "redis.dns", database: 1 });
  const second = await plugin(bridge, "second", { service_name: "redis.dns", database: 2 });
  assert.equal(await run(first, "set", "from-first"), "text:OK");
  assert.equal(await run(second, "set", "from-second"), "text:OK");
  assert.deepEqual(await keysIn(1), [], "the first plugin's database 1 was replaced by the second's init");
  assert.deepEqual(await keysIn(2), ["from-first", "from-second"]);
  await bridge.close();
});

test("two cluster names for one Redis keep two clients, each with its own database (Higress's advice)", async () => {
  const target = { host: "127.0.0.1", port: server().port };
  const bridge = new RedisBridge({ "outbound|6379||redis-a.dns": target, "outbound|6379||redis-b.dns": target });
  const first = await plugin(bridge, "first", { service_name: "redis-a.dns", database: 1 });
  const second = await plugin(bridge, "second", { service_name: "redis-b.dns", database: 2 });
  assert.equal(await run(first, "set", "from-first"), "text:OK");
  assert.equal(await run(second, "set", "from-second"), "text:OK");
  assert.deepEqual(await keysIn(1), ["from-first"]);
  assert.deepEqual(await keysIn(2), ["from-second"]);
  await bridge.close();
});

test("the last init's timeout is the shared client's: a plugin that asked for 5 s fails after the other's 200 ms", async () => {
  const bridge = new RedisBridge({ "outbound|6379||redis.dns": { host: "127.0.0.1", port: server().port } });
  const patient = await plugin(bridge, "patient", { service_name: "redis.dns", timeout: 5000 });
  await plugin(bridge, "hasty", { service_name: "redis.dns", timeout: 200 });
  assert.equal(await run(patient, "get", "warm"), "null");
  const paused = server().pause(1500);
  const started = Date.now();
  assert.equal(await run(patient, "get", "k"), "error:cannot connect to redis cluster");
  assert.ok(Date.now() - started < 1200, `failed by the 200 ms timeout, not after the server came back (${Date.now() - started} ms)`);
  await paused;
  await bridge.close();
});
