/**
 * Issue 17: what an operator sees. Through the gateway with a real redis-server, both AI plugins'
 * metrics on /stats/prometheus in Higress's shape with the numbers the clients were told, the
 * same read through a real Prometheus scraping the gateway, and each request's access log line
 * with both plugins' ai_log attributes merged into one JSON object.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm, probeWasm } from "../support/paths.ts";
import { sourceConstant } from "../support/source-constants.ts";
import { prometheusFamily, quotaMetric, ratelimitMetric, scrapedSeries as series } from "../support/metric-names.ts";
import { startPrometheus } from "../support/prometheus.ts";

const fixture = e2eFixture({ completionTokens: 12 });

const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80 };
/** A cluster name as Higress writes them, with `|` and `.` that the tags must keep in the label. */
const CLUSTER = "outbound|443||llm.dns";
const CONSUMERS = [{ name: "alice", credential: "alice-key-0001" }, { name: "bob", credential: "bob-key-0002" }];
const RATELIMIT_LOG = "plugins/ai-token-ratelimit/ai-log-keys.ts";
const QUOTA_LOG = "plugins/ai-quota/ai-log-keys.ts";
const logKey = (file: string, name: string) => sourceConstant(file, name);

/** key-auth, ai-quota and ai-token-ratelimit in Higress's order, `tokensPerMinute` per consumer; `first` runs before them. */
async function gateway(tokensPerMinute: number, first: object[] = []): Promise<Gateway> {
  return fixture.track(await startGateway({
    clusters: { llm: { url: fixture.upstream.url }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm", cluster_name: CLUSTER }],
    plugins: [
      ...first,
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: CONSUMERS } },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "admin", redis: REDIS } },
      {
        name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"),
        config: { rule_name: "obs", rule_items: [{ limit_by_per_consumer: "", limit_keys: [{ key: "*", token_per_minute: tokensPerMinute }] }], redis: REDIS },
      },
    ],
  }));
}

interface Told {
  status: number;
  input: number;
  output: number;
}

/** One chat as `consumer`; the usage its answer told the client. */
async function chat(g: Gateway, consumer: string, words: number, extra: Array<[string, string]> = []): Promise<Told> {
  const key = CONSUMERS.find((c) => c.name === consumer)!.credential;
  const res = await request(`${g.url}/v1/chat/completions`, {
    headers: [["x-api-key", key], ["content-type", "application/json"], ...extra],
    body: JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: Array(words).fill("word").join(" ") }] }),
  });
  if (res.status !== 200) return { status: res.status, input: 0, output: 0 };
  const usage = JSON.parse(res.body).usage;
  return { status: 200, input: usage.prompt_tokens, output: usage.completion_tokens };
}

/** Chats by two consumers (alice twice, bob once), quota for both; the usage told per consumer. */
async function chats(g: Gateway): Promise<Map<string, { input: number; output: number }>> {
  for (const { name } of CONSUMERS) await fixture.redis.client.set(`chat_quota:${name}`, 100_000);
  const told = new Map<string, { input: number; output: number }>();
  for (const [consumer, words] of [["alice", 3], ["bob", 7], ["alice", 11]] as const) {
    const answer = await chat(g, consumer, words);
    assert.equal(answer.status, 200);
    const sum = told.get(consumer) ?? { input: 0, output: 0 };
    told.set(consumer, { input: sum.input + answer.input, output: sum.output + answer.output });
  }
  return told;
}

const labels = (consumer: string, model = "qwen-max") => `{ai_route="aliyun",ai_cluster="${CLUSTER}",ai_model="${model}",ai_consumer="${consumer}"}`;

test("/stats/prometheus: both plugins' token series in Higress's shape and labels, with the usage each consumer was told", async () => {
  const g = await gateway(1_000_000_000);
  const told = await chats(g);
  const family = (name: string) => prometheusFamily(name);
  const names = [
    [ratelimitMetric("INPUT_TOKEN_METRIC"), "input"], [ratelimitMetric("OUTPUT_TOKEN_METRIC"), "output"],
    [quotaMetric("INPUT_TOKEN_METRIC"), "input"], [quotaMetric("OUTPUT_TOKEN_METRIC"), "output"],
  ] as const;
  let scraped = new Map<string, number>();
  let text = "";
  // Charged when each answer ends, which can be just after the client has it.
  await waitFor(async () => {
    text = (await request(`${g.adminUrl}/stats/prometheus`)).body;
    scraped = series(text);
    return CONSUMERS.every(({ name }) => names.every(([metric, part]) => scraped.get(family(metric) + labels(name)) === told.get(name)![part]));
  }, 3000).catch(() => {});
  for (const { name } of CONSUMERS) {
    for (const [metric, part] of names) assert.equal(scraped.get(family(metric) + labels(name)), told.get(name)![part], `${family(metric)} of ${name}`);
  }
  // One TYPE line per family, however many series it has.
  for (const [metric] of names) assert.equal(text.split("\n").filter((l) => l === `# TYPE ${family(metric)} counter`).length, 1);
  assert.doesNotMatch(text, /envoy_|wasmcustom/, "plugin stats carry no envoy_ prefix and no custom namespace, as Envoy renders them");
});

test("ai_log: a served chat's access log line carries the tokens each plugin charged, both plugins' keys in one JSON object", async () => {
  const g = await gateway(1_000_000_000);
  await fixture.redis.client.set("chat_quota:alice", 100_000);
  const told = await chat(g, "alice", 5);
  assert.equal(told.status, 200);
  await waitFor(() => g.accessLog().length === 1);
  const line = JSON.parse(g.accessLog()[0]);
  assert.deepEqual([line.method, line.path, line.response_code, line.consumer, line.route_name], ["POST", "/v1/chat/completions", "200", "alice", "aliyun"]);
  assert.match(line.duration, /^\d+$/);
  assert.deepEqual(JSON.parse(line.ai_log), {
    [logKey(QUOTA_LOG, "STATUS_KEY")]: logKey(QUOTA_LOG, "QUOTA_ALLOWED"),
    [logKey(QUOTA_LOG, "INPUT_TOKEN_KEY")]: told.input,
    [logKey(QUOTA_LOG, "OUTPUT_TOKEN_KEY")]: told.output,
    [logKey(RATELIMIT_LOG, "INPUT_TOKEN_KEY")]: told.input,
    [logKey(RATELIMIT_LOG, "OUTPUT_TOKEN_KEY")]: told.output,
  });
});

test("ai_log: a request the rate limit rejects has token_ratelimit_status limited in its access log line (Higress's key), merged with ai-quota's decision", async () => {
  const g = await gateway(5);
  await fixture.redis.client.set("chat_quota:bob", 100_000);
  assert.equal((await chat(g, "bob", 3)).status, 200);
  assert.equal((await chat(g, "bob", 3)).status, 429);
  await waitFor(() => g.accessLog().length === 2);
  const rejected = JSON.parse(g.accessLog()[1]);
  assert.equal(rejected.response_code, "429");
  assert.deepEqual(JSON.parse(rejected.ai_log), {
    [logKey(QUOTA_LOG, "STATUS_KEY")]: logKey(QUOTA_LOG, "QUOTA_ALLOWED"),
    [logKey(RATELIMIT_LOG, "STATUS_KEY")]: logKey(RATELIMIT_LOG, "LIMITED_STATUS"),
  });
  assert.equal(logKey(RATELIMIT_LOG, "STATUS_KEY"), "token_ratelimit_status");
  assert.equal(logKey(RATELIMIT_LOG, "LIMITED_STATUS"), "limited");
});

test("ai_log: what another plugin wrote first stays; an ai_log that is not a JSON object is left as it is, with a warning, never a trap", async () => {
  const probe = { name: "statistics", wasm: probeWasm("hostcalls"), config: {} };
  const g = await gateway(1_000_000_000, [probe]);
  await fixture.redis.client.set("chat_quota:alice", 100_000);
  const foreign = '{\\"model\\":\\"qwen-max\\",\\"chat_round\\":1,\\"nested\\":{\\"a\\":[1,\\"x\\"]}}';
  const told = await chat(g, "alice", 4, [["x-test-operation", "set-ai-log"], ["x-test-arg", foreign]]);
  assert.equal(told.status, 200);
  assert.equal((await chat(g, "alice", 4, [["x-test-operation", "set-ai-log"], ["x-test-arg", "not json"]])).status, 200);
  await waitFor(() => g.accessLog().length === 2);
  const merged = JSON.parse(JSON.parse(g.accessLog()[0]).ai_log);
  assert.deepEqual([merged.model, merged.chat_round, merged.nested], ["qwen-max", 1, { a: [1, "x"] }]);
  assert.equal(merged[logKey(RATELIMIT_LOG, "OUTPUT_TOKEN_KEY")], told.output);
  assert.equal(JSON.parse(g.accessLog()[1]).ai_log, "not json");
  assert.ok(g.logs().some((l) => l.message === "ai-token-ratelimit: ai_log in filter state is not a JSON object; left as it is"));
});

test("a real Prometheus scraping the gateway's stats port answers sum by (ai_consumer) with each consumer's tokens", async () => {
  const g = await gateway(1_000_000_000);
  const told = await chats(g);
  const prometheus = await startPrometheus([new URL(g.adminUrl).host]);
  try {
    const byConsumer = async (family: string) => {
      const answer = await prometheus.query(`sum by (ai_consumer) (${family})`).catch(() => []);
      return new Map(answer.map((s) => [s.metric.ai_consumer, s.value] as [string, number]).sort());
    };
    const input = prometheusFamily(ratelimitMetric("INPUT_TOKEN_METRIC"));
    const expected = new Map(CONSUMERS.map(({ name }) => [name, told.get(name)!.input] as [string, number]).sort());
    await waitFor(async () => JSON.stringify([...(await byConsumer(input))]) === JSON.stringify([...expected]), 30_000, 250).catch(() => {});
    assert.deepEqual(await byConsumer(input), expected, `Prometheus's answer (its log: ${prometheus.log().slice(-500)})`);
    // ai-quota's series are labelled the same way.
    const output = await byConsumer(prometheusFamily(quotaMetric("OUTPUT_TOKEN_METRIC")));
    assert.deepEqual(output, new Map(CONSUMERS.map(({ name }) => [name, told.get(name)!.output] as [string, number]).sort()));
  } finally {
    await prometheus.stop();
  }
});
