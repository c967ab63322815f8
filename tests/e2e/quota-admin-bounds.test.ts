/**
 * The ai-quota admin API with numbers at the edges (G7): a quota or delta no reader holds exactly
 * (past ±(2^53 - 1): JSON clients and Lua read doubles; past i64: Redis refuses) gets Higress's
 * "must be integer" answer and leaves the stored quota as it was.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { request } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";

const ADMIN = "admin-key-0001";
const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REFRESH_REFUSED = "Request denied by ai quota check. consumer can't be empty and quota must be integer.";
const DELTA_REFUSED = "Request denied by ai quota check. consumer can't be empty and value must be integer.";
const KEY = "chat_quota:u1";

const fixture = e2eFixture();
let gateway: Gateway | null = null;

async function g(): Promise<Gateway> {
  gateway ??= fixture.track(await startGateway({
    clusters: { llm: { url: fixture.upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: [{ name: "admin", credential: ADMIN }] } },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "admin", redis: { service_name: "local-redis.static", service_port: 80 } } },
    ],
  }));
  return gateway;
}

const admin = async (path: string, body?: string) =>
  request(`${(await g()).url}/v1/chat/completions/quota${path}`, { headers: [["x-api-key", ADMIN]], ...(body !== undefined ? { body, method: "POST" } : {}) });

test("refresh takes quotas up to ±(2^53 - 1) and answers them exactly; past that, Higress's 403 and nothing written", async () => {
  for (const quota of ["9007199254740991", "-9007199254740991"]) {
    assert.deepEqual([(await admin("/refresh", `consumer=u1&quota=${quota}`)).status], [200]);
    assert.equal((await admin("?consumer=u1")).body, `{"consumer":"u1","quota":${quota}}`);
  }
  await fixture.redis.client.command("SET", KEY, "7");
  for (const quota of ["9007199254740992", "-9007199254740992", "9223372036854775807", "-9223372036854775808", "99999999999999999999"]) {
    const res = await admin("/refresh", `consumer=u1&quota=${quota}`);
    assert.deepEqual([res.status, res.body], [403, REFRESH_REFUSED], quota);
    assert.equal(await fixture.redis.client.get(KEY), "7", `${quota} wrote nothing`);
  }
});

test("delta takes values up to ±(2^53 - 1); past that, Higress's 403 and the quota unchanged", async () => {
  await fixture.redis.client.command("SET", KEY, "7");
  for (const value of ["9007199254740992", "-9007199254740992", "9223372036854775807", "-9223372036854775808"]) {
    const res = await admin("/delta", `consumer=u1&value=${value}`);
    assert.deepEqual([res.status, res.body], [403, DELTA_REFUSED], value);
    assert.equal(await fixture.redis.client.get(KEY), "7", `${value} changed nothing`);
  }
  assert.equal((await admin("/delta", "consumer=u1&value=-9007199254740991")).status, 200);
  assert.equal(await fixture.redis.client.get(KEY), "-9007199254740984");
});
