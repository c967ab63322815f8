/**
 * Several filter configs in one VM: Envoy gives plugins with the same vm_id and code one VM with a
 * root context each (on_vm_start and on_configure per root). Each root must keep its own config,
 * its streams and its Redis replies.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET } from "../../host/direct.ts";
import { RedisBridge } from "../../host/redis-bridge.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";
import { pluginWasm } from "../support/paths.ts";
import { waitFor } from "../support/net.ts";

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

test("two key-auth configs in one VM each authenticate with their own keys and consumers", async () => {
  const wasm = pluginWasm("key-auth");
  const shared = await createHost({
    name: "auth-a", wasm, config: { keys: ["x-a"], in_header: true, consumers: [{ name: "a", credential: "ka" }] }, vmId: "auth",
    more: [{ name: "auth-b", wasm, vmId: "auth", config: { keys: ["x-b"], in_header: true, consumers: [{ name: "b", credential: "kb" }] } }],
  });
  assert.equal(shared.chain.vms.length, 1, "one VM");
  const roots = shared.chain.vms[0].trace.filter(([name]) => name === "proxy_on_configure").map(([, root]) => root);
  assert.equal(new Set(roots).size, 2, "configured once per root context");

  const both = shared.newStream().sendRequestHeaders(GET("/", [["x-a", "ka"], ["x-b", "kb"]]), true);
  assert.deepEqual(both.upstreamHeader("x-mse-consumer"), ["b"], "the second config ran last and replaced the consumer");
  const onlyA = shared.newStream().sendRequestHeaders(GET("/", [["x-a", "ka"]]), true);
  assert.equal(onlyA.response()?.status, 401, "the second config wants its own key");
  const swapped = shared.newStream().sendRequestHeaders(GET("/", [["x-a", "kb"], ["x-b", "ka"]]), true);
  assert.equal(swapped.response()?.status, 401, "a key of one config is unknown to the other");
  assert.equal(shared.chain.failed(), false);
});

test("two ai-token-ratelimit configs in one VM check and charge their own counters", async () => {
  const bridge = new RedisBridge({ "outbound|80||r.static": { host: "127.0.0.1", port: redis.port } });
  try {
    const wasm = pluginWasm("ai-token-ratelimit");
    const config = (rule: string) => ({ rule_name: rule, rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1000 }] }], redis: { service_name: "r.static" } });
    const host = await createHost({ name: "first", wasm, config: config("first"), vmId: "limits", redis: bridge, more: [{ name: "second", wasm, vmId: "limits", config: config("second") }] });
    assert.equal(host.chain.vms.length, 1);
    const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["x-api-key", "k"]]), true);
    await waitFor(() => s.upstream.headers !== null);
    s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]);
    s.sendResponseBody(JSON.stringify({ usage: { prompt_tokens: 3, completion_tokens: 4 } }), true);
    for (const rule of ["first", "second"]) {
      await waitFor(async () => (await redis.client.get(`higress-token-ratelimit:${rule}:limit_by_per_header:60:x-api-key:k`)) === "7");
    }
    assert.equal(host.chain.failed(), false);
  } finally {
    await bridge.close();
  }
});
