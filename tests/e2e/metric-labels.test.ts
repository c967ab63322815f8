/**
 * Metric labels taken from traffic (issue 15, item 9): the model (the request body's or the
 * response's) and the consumer (X-Mse-Consumer, client-settable without key-auth) become parts of
 * stat names. Whatever a client sends, each such label is cut to MAX_LABEL_LENGTH and cleaned
 * (a `.` never opens a segment of its own), each keeps at most MAX_LABEL_VALUES values per VM, and
 * a VM defines at most MAX_COUNTER_NAMES names: past either cap the overflow label stands in.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { createHost, GET } from "../../host/direct.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { startRedis, withBridge, type RedisServer } from "../support/redis.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm, repoRoot } from "../support/paths.ts";
import { sourceConstant } from "../support/source-constants.ts";
import { aiMetric, quotaMetric, ratelimitMetric } from "../support/metric-names.ts";
import { extractTags } from "../../host/stats-tags.ts";

const MAX_LABEL_LENGTH = Number(sourceConstant("shared/runtime/metric-label.ts", "MAX_LABEL_LENGTH"));
const MAX_LABEL_VALUES = Number(sourceConstant("shared/runtime/metrics.ts", "MAX_LABEL_VALUES"));
const MAX_COUNTER_NAMES = Number(sourceConstant("shared/runtime/metrics.ts", "MAX_COUNTER_NAMES"));
const OVERFLOW = sourceConstant("shared/runtime/metrics.ts", "OVERFLOW_LABEL");
/** What a label may hold after cleaning. */
const LABEL = new RegExp(`^[A-Za-z0-9_:/@-]{0,${MAX_LABEL_LENGTH}}$`);

const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80 };
const QUOTA = { admin_consumer: "admin", redis: REDIS };
const RATELIMIT = { rule_name: "labels", rule_items: [{ limit_by_per_consumer: "", limit_keys: [{ key: "*", token_per_minute: 1_000_000_000 }] }], redis: REDIS };
const MESSAGES = [{ role: "user", content: "Who are you?" }];
const PROMPT = 3;
const COMPLETION = 12;

/** Every AI metric, both plugins', once Higress's stats_tags took its four labels out. */
const TAG_EXTRACTED = /^wasmcustom\.route\.upstream\.model\.consumer\.metric\.[a-z_]+$/;

let redis: RedisServer;
let echo: Upstream;
let silent: Upstream;
let g: Gateway;

before(async () => {
  redis = await startRedis();
  echo = await startUpstream({ completionTokens: COMPLETION });
  // Names no model in its answers: the request body's model is the label.
  silent = await startUpstream({ completionTokens: COMPLETION, model: "" });
  g = await startGateway({
    clusters: { echo: { url: echo.url }, silent: { url: silent.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${redis.port}` } },
    routes: [{ name: "answer-model", prefix: "/answer", cluster: "echo" }, { name: "request-model", prefix: "/request", cluster: "silent" }],
    plugins: [
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: QUOTA },
      { name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: RATELIMIT },
    ],
  });
});
after(async () => {
  assert.equal(g.chain.failed(), false, "no VM trapped");
  await g.close();
  await echo.close();
  await silent.close();
  await redis.stop();
});

const HUGE = 500 * 1024;
const CASES: Array<{ route: string; model: string; consumer: string; modelLabel: string; consumerLabel: string }> = [
  { route: "answer-model", model: "Qwen/Qwen2.5-72B-Instruct", consumer: "alice", modelLabel: "Qwen/Qwen2_5-72B-Instruct", consumerLabel: "alice" },
  { route: "answer-model", model: "qwen2.5:7b", consumer: "bob.consumer.admin", modelLabel: "qwen2_5:7b", consumerLabel: "bob_consumer_admin" },
  {
    route: "answer-model", model: "gpt-4o.consumer.root.metric.token_ratelimit_count", consumer: "carol",
    modelLabel: "gpt-4o_consumer_root_metric_token_ratelimit_count", consumerLabel: "carol",
  },
  // 500 KB in the request, echoed in the answer (where the reader keeps 128 bytes), and an 8 KB consumer.
  {
    route: "answer-model", model: "A." + "a".repeat(HUGE), consumer: "d.".repeat(4096),
    modelLabel: "A_" + "a".repeat(MAX_LABEL_LENGTH - 2), consumerLabel: "d_".repeat(MAX_LABEL_LENGTH / 2),
  },
  // 500 KB in the request, none in the answer: the request's model is the label.
  { route: "request-model", model: "R." + "r".repeat(HUGE), consumer: "erin", modelLabel: "R_" + "r".repeat(MAX_LABEL_LENGTH - 2), consumerLabel: "erin" },
];

test("model and consumer labels from traffic are cut and cleaned in every stat name the host holds, through both plugins", async () => {
  for (const c of CASES) {
    await redis.client.set(`chat_quota:${c.consumer}`, 1_000_000);
    const answer = await request(`${g.url}/${c.route === "answer-model" ? "answer" : "request"}/v1/chat/completions`, {
      headers: [["x-mse-consumer", c.consumer], ["content-type", "application/json"]],
      body: JSON.stringify({ model: c.model, messages: MESSAGES }),
    });
    assert.equal(answer.status, 200);
    const cluster = c.route === "answer-model" ? "echo" : "silent";
    const labels = { route: c.route, cluster, model: c.modelLabel, consumer: c.consumerLabel };
    const value = (name: string) => g.metrics().find((m) => m.name === aiMetric(labels, name))?.value;
    const [limitedIn, limitedOut] = [ratelimitMetric("INPUT_TOKEN_METRIC"), ratelimitMetric("OUTPUT_TOKEN_METRIC")];
    const [quotaIn, quotaOut] = [quotaMetric("INPUT_TOKEN_METRIC"), quotaMetric("OUTPUT_TOKEN_METRIC")];
    // Counted when the answer ends; a name that is not as expected never appears, so wait, then compare.
    await waitFor(() => value(limitedOut) !== undefined && value(quotaOut) !== undefined).catch(() => {});
    assert.deepEqual([value(limitedIn), value(limitedOut)], [PROMPT, COMPLETION], `ai-token-ratelimit's counters for ${c.model.slice(0, 40)}`);
    assert.deepEqual([value(quotaIn), value(quotaOut)], [PROMPT, COMPLETION], `ai-quota's counters for ${c.model.slice(0, 40)}`);
  }
  const names = g.metrics().map((m) => m.name);
  assert.equal(names.length, 4 * CASES.length, "two counters per chat and plugin, no others");
  for (const name of names) {
    const tagged = extractTags(name);
    assert.match(tagged.name, TAG_EXTRACTED, `${name.slice(0, 200)} has the documented shape`);
    assert.deepEqual(tagged.tags.map(([tag]) => tag), ["ai_route", "ai_cluster", "ai_model", "ai_consumer"]);
    // Each label read back by the tag regexes is what the plugin meant: no `.` inside any.
    assert.equal(name.split(".").length, 11, `${name.slice(0, 200)}: no label adds a segment`);
    for (const [tag, label] of tagged.tags) if (tag === "ai_model" || tag === "ai_consumer") assert.match(label, LABEL);
  }
  const scrape = await request(`${g.adminUrl}/stats/prometheus`);
  assert.equal(scrape.status, 200);
  assert.ok(scrape.body.length < 16 * 1024, `a scrape of ${scrape.body.length} bytes after 1 MB of model names`);
});

/** One chat through a direct host: the check, the upstream, an answer naming `model` with usage. */
async function directChat(host: Awaited<ReturnType<typeof createHost>>, consumer: string, model: string): Promise<void> {
  const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["x-mse-consumer", consumer], ["content-type", "application/json"]]), false);
  s.sendRequestBody(JSON.stringify({ model, messages: MESSAGES }), true);
  await s.decided();
  assert.ok(s.upstream.ended, `the chat of ${consumer} reached the upstream`);
  s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]);
  s.sendResponseBody(JSON.stringify({ model, usage: { prompt_tokens: PROMPT, completion_tokens: COMPLETION } }), true);
}

/** The VM asked the host for each name once (Envoy keeps a new id, and its storage, per define). */
function assertEachNameDefinedOnce(host: Awaited<ReturnType<typeof createHost>>): void {
  const defined = (host.chain.vms[0] as unknown as { metricIds: Map<number, unknown> }).metricIds.size;
  assert.equal(defined, host.chain.metrics().length, "no name defined twice");
}

/** The cluster of a direct host's streams (host/direct.ts). */
const DIRECT_CLUSTER = "outbound|80||upstream.static";

const PLUGINS = [
  {
    plugin: "ai-quota", config: QUOTA,
    output: (model: string, consumer: string, route = "test-route", cluster = DIRECT_CLUSTER) => aiMetric({ route, cluster, model, consumer }, quotaMetric("OUTPUT_TOKEN_METRIC")),
    // No quota key: 403, counted under the plugin's own model label.
    reject: async (_consumer: string) => {},
    rejected: (consumer: string) => aiMetric({ route: "test-route", cluster: DIRECT_CLUSTER, model: "none", consumer }, quotaMetric("NO_QUOTA_METRIC")),
  },
  {
    plugin: "ai-token-ratelimit", config: RATELIMIT,
    output: (model: string, consumer: string, route = "test-route", cluster = DIRECT_CLUSTER) => aiMetric({ route, cluster, model, consumer }, ratelimitMetric("OUTPUT_TOKEN_METRIC")),
    reject: async (consumer: string) => {
      await redis.client.set(`higress-token-ratelimit:labels:limit_by_per_consumer:60:x-mse-consumer:${consumer}`, 2_000_000_000);
    },
    rejected: (consumer: string) => aiMetric({ route: "test-route", cluster: DIRECT_CLUSTER, model: "none", consumer }, ratelimitMetric("RATE_LIMITED_METRIC")),
  },
];

for (const { plugin, config, output, reject, rejected } of PLUGINS) {
  test(`${plugin}: past ${MAX_LABEL_VALUES} models, or consumers, a new one is counted as ${OVERFLOW} and the other labels are kept`, async () => {
    await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
      const host = await createHost({ wasm: pluginWasm(plugin), config, redis: bridge, logLevel: 2 });
      await redis.client.set("chat_quota:alice", 1_000_000);
      await redis.client.set("chat_quota:mallory", 1_000_000);
      await directChat(host, "alice", "qwen-max");
      // A new model per request: the first MAX_LABEL_VALUES - 1 are shown (qwen-max is one), then overflow.
      const extra = 40;
      for (let i = 0; i < MAX_LABEL_VALUES - 1 + extra; i++) await directChat(host, "mallory", `random-${i}`);
      assert.equal(host.metric(output(`random-${MAX_LABEL_VALUES - 2}`, "mallory")), COMPLETION, "the last model with room has its own counter");
      assert.equal(host.metric(output(`random-${MAX_LABEL_VALUES - 1}`, "mallory")), undefined);
      assert.equal(host.metric(output(OVERFLOW, "mallory")), COMPLETION * extra, "later models share the overflow label, the consumer kept");
      await directChat(host, "alice", "qwen-max");
      assert.equal(host.metric(output("qwen-max", "alice")), 2 * COMPLETION, "a model shown before the flood keeps its counter");
      await reject("rejected");
      const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["x-mse-consumer", "rejected"]]), true);
      await s.decided();
      assert.notEqual(s.response()?.status, 200);
      assert.equal(host.metric(rejected("rejected")), 1, "the plugin's own model label `none` is never an overflow");
      // A new consumer per request: the same for consumers (alice, mallory and rejected hold three values).
      for (let i = 0; i < MAX_LABEL_VALUES - 3 + extra; i++) {
        await redis.client.set(`chat_quota:spoofed-${i}`, 1_000_000);
        await directChat(host, `spoofed-${i}`, "qwen-max");
      }
      assert.equal(host.metric(output("qwen-max", `spoofed-${MAX_LABEL_VALUES - 4}`)), COMPLETION, "the last consumer with room has its own counter");
      assert.equal(host.metric(output("qwen-max", `spoofed-${MAX_LABEL_VALUES - 3}`)), undefined);
      assert.equal(host.metric(output("qwen-max", OVERFLOW)), COMPLETION * extra, "later consumers share the overflow label, the model kept");
      assertEachNameDefinedOnce(host);
      assert.equal(host.chain.failed(), false);
    });
  });

  test(`${plugin}: past ${MAX_COUNTER_NAMES} names, a new label set is counted with every label ${OVERFLOW}`, async () => {
    await withBridge(redis, REDIS_CLUSTER, async (bridge) => {
      const host = await createHost({ wasm: pluginWasm(plugin), config, redis: bridge, logLevel: 2 });
      // Two names (input and output) per pair, each value well within MAX_LABEL_VALUES.
      const consumers = 32;
      const models = MAX_COUNTER_NAMES / 2 / consumers;
      const extra = 20;
      for (let c = 0; c <= consumers; c++) await redis.client.set(`chat_quota:k${c}`, 1_000_000);
      for (let pair = 0; pair < MAX_COUNTER_NAMES / 2 + extra; pair++) await directChat(host, `k${Math.floor(pair / models)}`, `n${pair % models}`);
      assert.equal(host.chain.metrics().length, MAX_COUNTER_NAMES + 2, "the cap, plus the two overflow counters");
      assert.equal(host.metric(output(`n${models - 1}`, `k${consumers - 1}`)), COMPLETION, "below the cap: its own counter");
      assert.equal(host.metric(output("n0", `k${consumers}`)), undefined);
      assert.equal(host.metric(output(OVERFLOW, OVERFLOW, OVERFLOW, OVERFLOW)), COMPLETION * extra);
      assertEachNameDefinedOnce(host);
      assert.equal(host.chain.failed(), false);
    });
  });
}

test("both AI plugins' READMEs give the label caps as the code defines them", () => {
  for (const plugin of ["ai-quota", "ai-token-ratelimit"]) {
    const readme = readFileSync(`${repoRoot}plugins/${plugin}/README.md`, "utf8").replace(/\s+/g, " ");
    assert.ok(readme.includes(`cut to ${MAX_LABEL_LENGTH} characters (\`MAX_LABEL_LENGTH\`)`), `${plugin}: MAX_LABEL_LENGTH`);
    assert.ok(readme.includes(`past ${MAX_LABEL_VALUES} distinct values`), `${plugin}: MAX_LABEL_VALUES`);
    assert.ok(readme.includes(`After ${MAX_COUNTER_NAMES} distinct names per VM`), `${plugin}: MAX_COUNTER_NAMES`);
    assert.ok(readme.includes(`is \`${OVERFLOW}\``), `${plugin}: OVERFLOW_LABEL`);
  }
});
