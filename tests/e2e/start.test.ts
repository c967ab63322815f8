import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startUpstream } from "../support/upstream.ts";
import { startRedis } from "../support/redis.ts";
import { loadWalkthrough } from "../../scripts/gen-envoy.ts";
import { request, waitFor, freePort } from "../support/net.ts";
import { repoRoot } from "../support/paths.ts";
import { runNpmStart } from "../support/npm-start.ts";
import { staleModules } from "../../scripts/stale-build.ts";
import { NO_KEY } from "../support/key-auth.ts";
import { DEFAULT_STATS_PORT } from "../../host/gateway-config.ts";
import { prometheusFamily, quotaMetric, ratelimitMetric, statisticsMetric, scrapedSeries } from "../support/metric-names.ts";

test("npm start serves the walkthrough: refresh, a charged chat, 429 within the minute, 403 without quota; stats on the STATS_PORT it prints", async () => {
  const statsPort = await freePort();
  const start = await runNpmStart({ STATS_PORT: String(statsPort) });
  const { base, key } = start;
  const output = () => start.output();
  try {
    const admin = [["x-api-key", key("aliyun-admin")]] as Array<[string, string]>;
    const refresh = await request(`${base}/v1/chat/completions/quota/refresh`, { headers: admin, body: "consumer=aliyun-user1&quota=100" });
    assert.equal(refresh.body, "refresh quota successful");
    const chatBody = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });
    const user1 = [["x-api-key", key("aliyun-user1")], ["content-type", "application/json"]] as Array<[string, string]>;
    const charged = await request(`${base}/v1/chat/completions`, { headers: user1, body: chatBody });
    assert.equal(charged.status, 200);
    const told = JSON.parse(charged.body).usage;
    await waitFor(async () => JSON.parse((await request(`${base}/v1/chat/completions/quota?consumer=aliyun-user1`, { headers: admin })).body).quota < 100, 3000);
    assert.equal((await request(`${base}/v1/chat/completions`, { headers: user1, body: chatBody })).status, 429);
    const user2 = await request(`${base}/v1/chat/completions`, { headers: [["x-api-key", key("aliyun-user2")]], body: chatBody });
    assert.deepEqual([user2.status, user2.body], [403, "Request denied by ai quota check, No quota left"]);
    assert.match(output(), new RegExp(`stats: http://127\\.0\\.0\\.1:${statsPort}/stats/prometheus`));
    const stats = (await request(`http://127.0.0.1:${statsPort}/stats/prometheus`)).body;
    const labels = 'ai_route="aliyun",ai_cluster="llm",ai_model="qwen-max",ai_consumer="aliyun-user1"';
    assert.match(stats, new RegExp(`^${prometheusFamily(ratelimitMetric("INPUT_TOKEN_METRIC"))}\\{${labels}\\} \\d+$`, "m"));
    assert.match(stats, new RegExp(`^${prometheusFamily(quotaMetric("OUTPUT_TOKEN_METRIC"))}\\{${labels}\\} \\d+$`, "m"));
    // ai-statistics, first after key-auth: Higress's own names, with the usage the client was told.
    assert.equal(scrapedSeries(stats).get(`${prometheusFamily(statisticsMetric("INPUT_TOKEN_METRIC"))}{${labels}}`), told.prompt_tokens);
    assert.equal(scrapedSeries(stats).get(`${prometheusFamily(statisticsMetric("OUTPUT_TOKEN_METRIC"))}{${labels}}`), told.completion_tokens);
    // One access log line per request on stdout, the 403 among them.
    await waitFor(() => /"response_code":"403"/.test(output()), 3000);
    // ai-quota's decision, then what ai-statistics (the last to see the answer) adds.
    assert.match(output(), /^\{"ai_log":"\{\\"quota_status\\":\\"no_quota\\",\\"api\\":\\"-\\",\\"chat_round\\":1,\\"llm_service_duration\\":\d+,\\"response_type\\":\\"normal\\"\}","consumer":"aliyun-user2",.*"response_code":"403"/m);
  } finally {
    await start.stop();
  }
});

test("npm start with a REDIS_URL nothing answers at fails at once, naming it, instead of a gateway that answers 503", async () => {
  const url = `redis://127.0.0.1:${await freePort()}`;
  const run = spawnSync(process.execPath, ["--import", "tsx", `${repoRoot}scripts/start.ts`], { env: { ...process.env, PORT: "0", REDIS_URL: url }, encoding: "utf8", timeout: 30_000 });
  assert.equal(run.status, 1);
  assert.match(run.stderr, new RegExp(`REDIS_URL=${url}: Redis at 127\\.0\\.0\\.1:\\d+ cannot be reached \\(.*ECONNREFUSED`));
  assert.doesNotMatch(run.stdout, /gateway on/);
});

test("npm start with REDIS_URL=redis://:password@host:port/3: the plugins authenticate and keep their keys in database 3; a wrong password stops start-up without printing it", async () => {
  const redis = await startRedis({ password: "s3cret" });
  const start = await runNpmStart({ REDIS_URL: `redis://:s3cret@127.0.0.1:${redis.port}/3` });
  try {
    const refresh = await request(`${start.base}/v1/chat/completions/quota/refresh`, { headers: [["x-api-key", start.key("aliyun-admin")]], body: "consumer=aliyun-user1&quota=100" });
    assert.equal(refresh.body, "refresh quota successful");
    const chat = await request(`${start.base}/v1/chat/completions`, { headers: [["x-api-key", start.key("aliyun-user1")], ["content-type", "application/json"]], body: JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] }) });
    assert.equal(chat.status, 200);
    await redis.client.command("SELECT", "3");
    await waitFor(async () => Number(await redis.client.command("GET", "chat_quota:aliyun-user1")) < 100, 3000);
    assert.ok(((await redis.client.command("KEYS", "*")) as string[]).some((k) => k.includes("aliyun-user1") || k.includes(start.key("aliyun-user1"))), "the rate-limit counter is in database 3 too");
    await redis.client.command("SELECT", "0");
    assert.deepEqual(await redis.client.command("KEYS", "*"), [], "nothing in database 0");
  } finally {
    await start.stop();
  }
  try {
    const run = spawnSync(process.execPath, ["--import", "tsx", `${repoRoot}scripts/start.ts`], { env: { ...process.env, PORT: "0", REDIS_URL: `redis://:wrong-one@127.0.0.1:${redis.port}` }, encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr, new RegExp(`REDIS_URL=redis://:\\*\\*\\*@127\\.0\\.0\\.1:${redis.port}: Redis at 127\\.0\\.0\\.1:${redis.port} cannot be reached \\(Redis answered WRONGPASS`));
    assert.doesNotMatch(run.stderr + run.stdout, /wrong-one/);
    const bad = spawnSync(process.execPath, ["--import", "tsx", `${repoRoot}scripts/start.ts`], { env: { ...process.env, PORT: "0", REDIS_URL: `redis://127.0.0.1:${redis.port}/zero` }, encoding: "utf8", timeout: 30_000 });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /database must be a number after the last \/, got "zero"/);
  } finally {
    await redis.stop();
  }
});

test("key-auth's Try it: host/cli.ts on stack/gateway.yaml answers the README's two requests as it says", async () => {
  const fixture = { upstream: await startUpstream(), redis: await startRedis() };
  // stack/gateway.yaml as shipped, with the test's free ports for the upstream, Redis and the listener.
  const shipped = readFileSync(`${repoRoot}stack/gateway.yaml`, "utf8");
  const dir = mkdtempSync(join(tmpdir(), "gateway-file-"));
  const file = join(dir, "gateway.yaml");
  writeFileSync(file, shipped.replace("port: 8080", "port: 0").replace(`port: ${DEFAULT_STATS_PORT}`, "port: 0").replace("http://127.0.0.1:8000", fixture.upstream.url).replace("127.0.0.1:6379", `127.0.0.1:${fixture.redis.port}`).replaceAll("../build/", `${repoRoot}build/`));
  const child = spawn(process.execPath, ["--import", "tsx", `${repoRoot}host/cli.ts`, file], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  try {
    await waitFor(() => /listening on (http:\/\/\S+)/.test(output), 20000);
    const base = /listening on (http:\/\/\S+)/.exec(output)![1];
    const anonymous = await request(`${base}/v1/models`);
    assert.deepEqual([anonymous.status, anonymous.body], [401, NO_KEY]);
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

test("npm start rebuilds a module that is missing or older than any plugin or shared source, and leaves a current one", () => {
  const dir = mkdtempSync(join(tmpdir(), "stale-build-"));
  try {
    mkdirSync(join(dir, "shared", "redis"), { recursive: true });
    mkdirSync(join(dir, "build"));
    const source = join(dir, "shared", "redis", "client.ts");
    const lua = join(dir, "shared", "redis", "check.lua");
    const generated = join(dir, "shared", "redis", "lua.generated.ts");
    const [built, missing] = [join(dir, "build", "a.wasm"), join(dir, "build", "b.wasm")];
    for (const f of [source, lua, generated, built]) writeFileSync(f, "x");
    const at = (file: string, seconds: number) => utimesSync(file, seconds, seconds);
    at(source, 1000);
    at(lua, 1000);
    at(built, 2000);
    at(generated, 3000);
    assert.deepEqual(staleModules([built, missing], [join(dir, "shared")]), [missing], "a generated file newer than the module does not count");
    at(source, 2500);
    assert.deepEqual(staleModules([built], [join(dir, "shared")]), [built], "an edited .ts source makes it stale");
    at(source, 1000);
    at(lua, 2500);
    assert.deepEqual(staleModules([built], [join(dir, "shared")]), [built], "an edited Lua script makes it stale");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
