import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { startGateway, UPSTREAM_PROTOCOL_ERROR, type Gateway } from "../../host/gateway.ts";
import { parseGatewayConfig, domainMatches } from "../../host/gateway-config.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { request } from "../support/net.ts";
import { probeWasm, pluginWasm, repoRoot } from "../support/paths.ts";

let upstream: Upstream;
let gateway: Gateway;

before(async () => {
  upstream = await startUpstream({ chunkSize: 16, chunkDelayMs: 1 });
  gateway = await startGateway({
    clusters: { llm: { url: upstream.url } },
    routes: [
      { name: "api", domains: ["*.example.com"], prefix: "/v1/", cluster: "llm", cluster_name: "outbound|443||llm.dns" },
      { name: "other", domains: ["*"], prefix: "/other", cluster: "llm" },
      { name: "local", domains: ["127.0.0.1"], prefix: "/v1/", cluster: "llm" },
    ],
    plugins: [{ name: "probe", wasm: probeWasm("hostcalls"), config: {} }],
  });
});
after(async () => {
  await gateway.close();
  await upstream.close();
});

test("routes by domain wildcard with a port in Host and shows route_name and cluster_name to plugins", async () => {
  const res = await request(`${gateway.url}/v1/x`, { headers: [["host", "api.example.com:8080"], ["x-test-operation", "property"], ["x-test-arg", "route_name"]] });
  assert.equal(res.status, 200);
  assert.equal(res.body, "value=api");
  const cluster = await request(`${gateway.url}/v1/x`, { headers: [["host", "api.example.com"], ["x-test-operation", "property"], ["x-test-arg", "cluster_name"]] });
  assert.equal(cluster.body, "value=outbound|443||llm.dns");
});

test("a request matching no route gets Envoy's 404 and route_name is absent", async () => {
  const res = await request(`${gateway.url}/nothing`, { headers: [["host", "other.test"]] });
  assert.equal(res.status, 404);
  const probe = await request(`${gateway.url}/nothing`, { headers: [["host", "other.test"], ["x-test-operation", "property"], ["x-test-arg", "route_name"]] });
  assert.equal(probe.body, "status=1");
});

test("forwards headers and body to the upstream and streams the answer back", async () => {
  const res = await request(`${gateway.url}/v1/chat/completions`, { headers: [["host", "a.example.com"], ["content-type", "application/json"]], body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hello there" }] }) });
  assert.equal(res.status, 200);
  assert.equal(JSON.parse(res.body).usage.prompt_tokens, 2);
  const seen = upstream.requests.at(-1)!;
  assert.equal(seen.headers["x-forwarded-proto"], "http");
  assert.ok(seen.headers["x-request-id"]);
});

test("the official openai client streams through the gateway", async () => {
  const client = new OpenAI({ apiKey: "sk-test", baseURL: `${gateway.url}/v1` });
  const stream = await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
  let text = "";
  let usage = 0;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    usage = chunk.usage?.total_tokens ?? usage;
  }
  assert.match(text, /^I am a test model/);
  assert.equal(usage, 13);
});

test("the client receives the first chunk before the upstream sends the last", async () => {
  const slow = await startUpstream({ chunkSize: 32, chunkDelayMs: 40 });
  const gw = await startGateway({ clusters: { llm: { url: slow.url } }, routes: [{ name: "r", prefix: "/", cluster: "llm" }], plugins: [] });
  try {
    const firstAt = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const req = http.request(`${gw.url}/v1/chat/completions`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
        res.once("data", () => resolve(Date.now() - started));
        res.resume();
      });
      req.on("error", reject);
      req.end(JSON.stringify({ model: "m", stream: true, messages: [{ role: "user", content: "x" }] }));
    });
    assert.ok(firstAt < 400, `first chunk after ${firstAt} ms`);
  } finally {
    await gw.close();
    await slow.close();
  }
});

test("upstream down gives 503 with Envoy's text", async () => {
  const gw = await startGateway({ clusters: { llm: { url: "http://127.0.0.1:1" } }, routes: [{ name: "r", prefix: "/", cluster: "llm" }], plugins: [] });
  try {
    const res = await request(`${gw.url}/x`);
    assert.equal(res.status, 503);
    assert.match(res.body, /^upstream connect error or disconnect\/reset before headers/);
  } finally {
    await gw.close();
  }
});

test("plugin metrics appear in Prometheus text on the admin listener, the custom namespace wasmcustom stripped as Envoy does", async () => {
  await request(`${gateway.url}/v1/m`, { headers: [["host", "a.example.com"], ["x-test-operation", "metrics"]] });
  const res = await request(`${gateway.adminUrl}/stats/prometheus`);
  assert.match(res.body, /# TYPE probe_requests counter\nprobe_requests\{\} 5\n/);
  assert.doesNotMatch(res.body, /envoy_/);
});

test("config errors name the field", () => {
  assert.throws(() => parseGatewayConfig({ clusters: {}, routes: [{ name: "r", cluster: "missing" }] }), /routes\[0\]\.cluster names no HTTP cluster/);
  assert.throws(() => parseGatewayConfig({ clusters: { r: { redis: "nohost" } } }), /clusters\.r\.redis must be "host:port"/);
  assert.throws(() => parseGatewayConfig({ mode: "nginx" }), /mode must be "higress" or "envoy"/);
});

test("a misspelt key fails start-up with its path, never ignored: plugin:, listn:, a route's prefx (issue 18)", () => {
  const dir = mkdtempSync(join(tmpdir(), "gateway-typo-"));
  const base = { clusters: { llm: { url: "http://127.0.0.1:9" } }, routes: [{ name: "r", cluster: "llm" }], plugins: [] };
  const quota = { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "admin", redis: { service_name: "redis.static" } } };
  const cases: Array<[object, string]> = [
    [{ ...base, plugin: [{ name: "key-auth", wasm: "x.wasm" }] }, "gateway config: plugin is not a known key"],
    [{ ...base, listn: { port: 8080 } }, "gateway config: listn is not a known key"],
    [{ ...base, routes: [{ name: "r", cluster: "llm", prefx: "/v1" }] }, "gateway config: routes[0].prefx is not a known key"],
    [{ ...base, listen: { prot: 8080 } }, "gateway config: listen.prot is not a known key"],
    // The plugin's Redis cluster is not the gateway's: every check would get status 2 (not found).
    [{ ...base, clusters: { ...base.clusters, "outbound|6379||redis.static": { redis: "127.0.0.1:6379" } }, plugins: [quota] },
      'gateway config: plugins[0].config.redis.service_name names Redis cluster "outbound|80||redis.static", and clusters has no such Redis cluster (Redis clusters: "outbound|6379||redis.static")'],
  ];
  try {
    for (const [i, [config, message]] of cases.entries()) {
      const file = join(dir, `gateway-${i}.yaml`);
      writeFileSync(file, JSON.stringify(config));
      const run = spawnSync(process.execPath, ["--import", "tsx", `${repoRoot}host/cli.ts`, file], { encoding: "utf8", timeout: 20_000 });
      assert.equal(run.status, 1, `${message}: start-up fails`);
      assert.ok(run.stderr.includes(message), `stderr names the key: ${run.stderr}`);
      assert.doesNotMatch(run.stdout, /listening on/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every section and value of the gateway config is checked, naming the field", () => {
  const base = { clusters: { llm: { url: "http://127.0.0.1:9" } }, routes: [{ name: "r", cluster: "llm" }], plugins: [] as object[] };
  const noop = { name: "noop", wasm: probeWasm("noop") };
  const cases: Array<[object, RegExp]> = [
    [{ clusters: base.clusters, routes: base.routes }, /gateway config: plugins is required \(the filter chain; write `plugins: \[\]` for a gateway without plugins\)$/],
    [{ clusters: base.clusters, plugins: [] }, /gateway config: routes is required/],
    [{ routes: [], plugins: [] }, /gateway config: clusters is required/],
    [{ ...base, routes: [{ name: "r", cluster: "llm" }, { name: "r", cluster: "llm", prefix: "/v2" }] }, /routes\[1\]\.name "r" is already the name of routes\[0\]/],
    [{ ...base, routes: [{ name: "r", cluster: "llm", prefix: "v1" }] }, /routes\[0\]\.prefix must start with "\/", got "v1"/],
    [{ ...base, routes: [{ name: "r", cluster: "llm", domains: [] }] }, /routes\[0\]\.domains must be a list of non-empty strings, got \[\]/],
    [{ ...base, plugins: [{ name: "x", wasm: "/nonexistent/x.wasm" }] }, /plugins\[0\]\.wasm names no file: \/nonexistent\/x\.wasm/],
    [{ ...base, plugins: [{ ...noop, config: "{}" }] }, /plugins\[0\]\.config must be an object, got "\{\}"/],
    [{ ...base, plugins: [{ ...noop, config: { _rules_: [{ _match_route_: ["r"], redis: { service_name: "cache", service_port: 6380 } }] } }] },
      /plugins\[0\]\.config\._rules_\[0\]\.redis\.service_name names Redis cluster "outbound\|6380\|\|cache", and clusters has no such Redis cluster \(Redis clusters: none\)/],
  ];
  // Two settings on one Redis cluster: Higress's single client per cluster would take the last (redis-shared-client.test.ts).
  const shared = { ...base, clusters: { ...base.clusters, "outbound|80||redis.static": { redis: "127.0.0.1:6379" } } };
  const on = (redis: object) => ({ ...noop, config: { redis: { service_name: "redis.static", ...redis } } });
  cases.push(
    [{ ...shared, plugins: [on({ database: 1 }), on({ database: 2 })] }, /plugins\[1\]\.config\.redis\.database is 2 and plugins\[0\]\.config\.redis\.database is 1 on the same Redis cluster "outbound\|80\|\|redis\.static": Higress keeps one client per cluster/],
    [{ ...shared, plugins: [on({ database: 3 }), { ...noop, config: { _rules_: [{ _match_route_: ["r"], redis: { service_name: "redis.static", database: 4 } }] } }] }, /plugins\[1\]\.config\._rules_\[0\]\.redis\.database is 4 and plugins\[0\]\.config\.redis\.database is 3/],
    [{ ...shared, plugins: [on({ password: "a-secret" }), on({ password: "b-secret" })] }, /plugins\[1\]\.config\.redis\.password is \(secret\) and plugins\[0\]\.config\.redis\.password is \(secret\)/],
  );
  for (const [config, message] of cases) assert.throws(() => parseGatewayConfig(config), message, JSON.stringify(config));
  assert.doesNotThrow(() => parseGatewayConfig({ ...shared, plugins: [on({ database: 0, timeout: 200 }), on({ timeout: 5000 })] }), "absent and 0 are one database; timeouts may differ (they change how long a failure waits, not where data goes)");
  // Each plugin's Redis cluster present: accepted.
  const redis = { "outbound|80||redis.static": { redis: "127.0.0.1:6379" } };
  assert.doesNotThrow(() => parseGatewayConfig({ ...base, clusters: { ...base.clusters, ...redis }, plugins: [{ ...noop, config: { redis: { service_name: "redis.static" } } }] }));
});

test("domain patterns follow Envoy: suffix, prefix, exact, any; the port is ignored", () => {
  assert.equal(domainMatches("*.example.com", "a.example.com:80"), true);
  assert.equal(domainMatches("*.example.com", "example.com"), false);
  assert.equal(domainMatches("api.*", "api.test"), true);
  assert.equal(domainMatches("exact.test", "exact.test:1"), true);
  assert.equal(domainMatches("*", "[::1]:80"), true);
});

test("re-chunking upstream bodies at every byte keeps the body the client receives (item 21)", async () => {
  const gw = await startGateway({ clusters: { llm: { url: upstream.url } }, routes: [{ name: "r", prefix: "/", cluster: "llm" }], plugins: [{ name: "probe", wasm: probeWasm("noop"), config: {} }], split_response_body: { every: 1 } });
  try {
    const direct = await request(`${upstream.url}/v1/chat/completions`, { body: JSON.stringify({ model: "m", stream: true, messages: [] }) });
    const through = await request(`${gw.url}/v1/chat/completions`, { body: JSON.stringify({ model: "m", stream: true, messages: [] }) });
    assert.equal(through.body, direct.body);
    assert.ok(through.body.length > 200);
  } finally {
    await gw.close();
  }
});

test("a header value a plugin sets that no HTTP/1 message can carry never crashes the gateway: 503 protocol error upstream, a reset downstream, each logged", async () => {
  const gw = await startGateway({ clusters: { llm: { url: upstream.url } }, routes: [{ name: "r", prefix: "/", cluster: "llm" }], plugins: [{ name: "probe", wasm: probeWasm("hostcalls"), config: {} }] });
  try {
    const sent = upstream.requests.length;
    const toUpstream = await request(`${gw.url}/v1/x`, { headers: [["x-test-operation", "bad-request-header"]] });
    assert.deepEqual([toUpstream.status, toUpstream.body], [503, UPSTREAM_PROTOCOL_ERROR]);
    assert.equal(upstream.requests.length, sent, "nothing reached the upstream, no header was injected");
    for (const op of ["bad-response-header", "bad-reply-header"]) {
      await assert.rejects(request(`${gw.url}/v1/x`, { headers: [["x-test-operation", op]] }), /socket hang up|ECONNRESET/, op);
    }
    assert.match(gw.routerLogs().join("\n"), /GET \/v1\/x: request not sent: Invalid character in header content \["x-bad"\]/);
    assert.equal(gw.routerLogs().filter((l) => /response to GET \/v1\/x not sent: Invalid character in header content \["x-bad"\]/.test(l)).length, 2);
    assert.equal((await request(`${gw.url}/v1/x`)).status, 200, "the gateway still serves");
  } finally {
    await gw.close();
  }
});
