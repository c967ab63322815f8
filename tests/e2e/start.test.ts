import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startUpstream } from "../support/upstream.ts";
import { startRedis } from "../support/redis.ts";
import { loadWalkthrough } from "../../scripts/gen-envoy.ts";
import { request, waitFor, freePort } from "../support/net.ts";
import { repoRoot } from "../support/paths.ts";
import { DEFAULT_STATS_PORT } from "../host/gateway-config.ts";
import { prometheusFamily, quotaMetric, ratelimitMetric } from "../support/metric-names.ts";

test("npm start serves the walkthrough: refresh, a charged chat, 429 within the minute, 403 without quota; stats on the STATS_PORT it prints", async () => {
  const statsPort = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", `${repoRoot}scripts/start.ts`], { env: { ...process.env, PORT: "0", STATS_PORT: String(statsPort) }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  try {
    // Wait for the whole banner: stdout can arrive in several chunks.
    await waitFor(() => output.includes("# chat as aliyun-user1"), 20000);
    const base = /gateway on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1];
    const key = (name: string) => new RegExp(`${name}\\s+x-api-key: (\\S+)`).exec(output)![1];
    const admin = [["x-api-key", key("aliyun-admin")]] as Array<[string, string]>;
    const refresh = await request(`${base}/v1/chat/completions/quota/refresh`, { headers: admin, body: "consumer=aliyun-user1&quota=100" });
    assert.equal(refresh.body, "refresh quota successful");
    const chatBody = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });
    const user1 = [["x-api-key", key("aliyun-user1")], ["content-type", "application/json"]] as Array<[string, string]>;
    assert.equal((await request(`${base}/v1/chat/completions`, { headers: user1, body: chatBody })).status, 200);
    await waitFor(async () => JSON.parse((await request(`${base}/v1/chat/completions/quota?consumer=aliyun-user1`, { headers: admin })).body).quota < 100, 3000);
    assert.equal((await request(`${base}/v1/chat/completions`, { headers: user1, body: chatBody })).status, 429);
    const user2 = await request(`${base}/v1/chat/completions`, { headers: [["x-api-key", key("aliyun-user2")]], body: chatBody });
    assert.deepEqual([user2.status, user2.body], [403, "Request denied by ai quota check, No quota left"]);
    assert.match(output, new RegExp(`stats: http://127\\.0\\.0\\.1:${statsPort}/stats/prometheus`));
    const stats = (await request(`http://127.0.0.1:${statsPort}/stats/prometheus`)).body;
    const labels = 'ai_route="aliyun",ai_cluster="llm",ai_model="qwen-max",ai_consumer="aliyun-user1"';
    assert.match(stats, new RegExp(`^${prometheusFamily(ratelimitMetric("INPUT_TOKEN_METRIC"))}\\{${labels}\\} \\d+$`, "m"));
    assert.match(stats, new RegExp(`^${prometheusFamily(quotaMetric("OUTPUT_TOKEN_METRIC"))}\\{${labels}\\} \\d+$`, "m"));
    // One access log line per request on stdout, the 403 among them.
    assert.match(output, /^\{"ai_log":"\{\\"quota_status\\":\\"no_quota\\"\}","consumer":"aliyun-user2",.*"response_code":"403"/m);
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await exited;
  }
});

test("npm start with a REDIS_URL nothing answers at fails at once, naming it, instead of a gateway that answers 503", async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const run = spawnSync(process.execPath, ["--import", "tsx", `${repoRoot}scripts/start.ts`], { env: { ...process.env, PORT: "0", REDIS_URL: url }, encoding: "utf8", timeout: 30_000 });
  assert.equal(run.status, 1);
  assert.match(run.stderr, new RegExp(`REDIS_URL=${url}: Redis at 127\\.0\\.0\\.1:\\d+ cannot be reached \\(.*ECONNREFUSED`));
  assert.doesNotMatch(run.stdout, /gateway on/);
});

test("key-auth's Try it: tests/host/cli.ts on stack/gateway.yaml answers the README's two requests as it says", async () => {
  const fixture = { upstream: await startUpstream(), redis: await startRedis() };
  // stack/gateway.yaml as shipped, with the test's free ports for the upstream, Redis and the listener.
  const shipped = readFileSync(`${repoRoot}stack/gateway.yaml`, "utf8");
  const dir = mkdtempSync(join(tmpdir(), "gateway-file-"));
  const file = join(dir, "gateway.yaml");
  writeFileSync(file, shipped.replace("port: 8080", "port: 0").replace(`port: ${DEFAULT_STATS_PORT}`, "port: 0").replace("http://127.0.0.1:8000", fixture.upstream.url).replace("127.0.0.1:6379", `127.0.0.1:${fixture.redis.port}`).replaceAll("../build/", `${repoRoot}build/`));
  const child = spawn(process.execPath, ["--import", "tsx", `${repoRoot}tests/host/cli.ts`, file], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  try {
    await waitFor(() => /listening on (http:\/\/\S+)/.test(output), 20000);
    const base = /listening on (http:\/\/\S+)/.exec(output)![1];
    const anonymous = await request(`${base}/v1/models`);
    assert.deepEqual([anonymous.status, anonymous.body], [401, "No API key found in request."]);
    // The README's key is the walkthrough's admin credential.
    const consumers = loadWalkthrough().plugins.find((p) => p.name === "key-auth")!.config.consumers as Array<{ name: string; credential: string }>;
    const adminKey = consumers.find((c) => c.name === "aliyun-admin")!.credential;
    assert.match(readFileSync(`${repoRoot}plugins/key-auth/README.md`, "utf8"), new RegExp(`-H 'x-api-key: ${adminKey}'`));
    const admin = await request(`${base}/v1/chat/completions/quota?consumer=aliyun-user1`, { headers: [["x-api-key", adminKey]] });
    assert.deepEqual([admin.status, admin.body], [200, '{"consumer":"aliyun-user1","quota":0}']);
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGINT");
    await exited;
    rmSync(dir, { recursive: true, force: true });
    await fixture.upstream.close();
    await fixture.redis.stop();
  }
});
