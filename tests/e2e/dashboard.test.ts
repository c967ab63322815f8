/**
 * Issue 17: the shipped Grafana dashboard shows what the clients were told. One gateway (key-auth,
 * ai-statistics, ai-quota, ai-token-ratelimit; a real redis-server, and a Redis cluster on a
 * closed port) serves chats and provokes every counter the dashboard shows; a real Prometheus
 * scrapes it; then every query of stack/grafana/dashboards/ai-gateway.json is evaluated through
 * Prometheus's HTTP API with Grafana's variables replaced, and must answer the usage, rejections
 * and failures the clients saw: exactly for increases, and for rates, per second of the same sums.
 *
 * Exact: increase() and rate() extrapolate to the ends of their range unless it starts and ends
 * on a sample, and a series' first sample adds nothing. So the scenario runs twice: the first run
 * creates every series, Prometheus scrapes at T0; the measured run follows, Prometheus scrapes at
 * T1; each query is evaluated at T1 with $__range and $__rate_interval T1 - T0 (Prometheus 2's
 * ranges hold both ends). One scrape target, so every series has samples at T0 and T1: gateways
 * on several targets are scraped at different offsets, and no one range could end on all of them.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { freePort, request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { sourceConstant } from "../support/source-constants.ts";
import { prometheusFamily, quotaMetric, ratelimitMetric, statisticsMetric } from "../support/metric-names.ts";
import { startPrometheus, type Prometheus, type PromSample } from "../support/prometheus.ts";
import { dashboardQueries, templateVariables, type DashboardQuery } from "../support/dashboard.ts";

const fixture = e2eFixture({ completionTokens: 12 });

const REDIS = { service_name: "local-redis.static", service_port: 80 };
const CLOSED_REDIS = { service_name: "closed-redis.static", service_port: 80 };
/** Higress's names for AI services (`llm-<provider>.internal.dns`), from which the provider column is read. */
const QWEN = "outbound|443||llm-qwen.internal.dns";
const DEEPSEEK = "outbound|443||llm-deepseek.internal.dns";
const PROVIDERS: Record<string, string> = { [QWEN]: "qwen", [DEEPSEEK]: "deepseek" };

/**
 * What runs on each route: ai-quota and ai-token-ratelimit on Redis (`up`), on the closed port
 * (`down`), or not at all; on `limited` the rate limit alone, first by an x-user header.
 */
const ROUTES = {
  aliyun: { prefix: "/", cluster: QWEN, quota: "up", limiter: "up" },
  deepseek: { prefix: "/deepseek/", cluster: DEEPSEEK, quota: "up", limiter: "up" },
  limited: { prefix: "/limited/", cluster: QWEN, quota: "off", limiter: "header" },
  broken: { prefix: "/broken/", cluster: QWEN, quota: "down", limiter: "down" },
} as const;
type Route = keyof typeof ROUTES;
const CONSUMERS = ["alice", "bob", "carol", "dave", "erin", "frank"];
const credential = (consumer: string) => `${consumer}-key-0001`;
/** carol's limit, below one chat's usage: her second chat is rejected. */
const CAROL_TOKENS_PER_MINUTE = 10;
/** A `regexp:` key as large as allowed, by which a 12 KB value cannot be decided within the budget (431). */
const UNDECIDABLE_KEY = "regexp:(a|b){0,399}c";
const HUGE_VALUE = "a".repeat(12_000) + "c";
const LIMIT_KEY_PREFIX = sourceConstant("plugins/ai-token-ratelimit/keys.ts", "KEY_PREFIX");
const QUOTA_KEY_PREFIX = sourceConstant("plugins/ai-quota/keys.ts", "DEFAULT_KEY_PREFIX");
const QUOTA_START = 100_000;

/** The routes where `plugin` runs in `state`. */
const routesWhere = (plugin: "quota" | "limiter", state: string) => Object.entries(ROUTES).filter(([, r]) => r[plugin] === state).map(([name]) => name);

/** Per consumer, carol below one chat's usage, everyone else far above any. */
const CONSUMER_LIMITS = { limit_by_per_consumer: "", limit_keys: [{ key: "regexp:^carol$", token_per_minute: CAROL_TOKENS_PER_MINUTE }, { key: "*", token_per_minute: 1_000_000_000 }] };

function gatewayConfig(upstream: Upstream, silent: Upstream, closedPort: number): object {
  return {
    clusters: {
      qwen: { url: upstream.url },
      deepseek: { url: silent.url },
      [`outbound|80||${REDIS.service_name}`]: { redis: `127.0.0.1:${fixture.redis.port}` },
      [`outbound|80||${CLOSED_REDIS.service_name}`]: { redis: `127.0.0.1:${closedPort}` },
    },
    // Most specific prefix first: the first route that matches serves.
    routes: (Object.entries(ROUTES) as Array<[Route, (typeof ROUTES)[Route]]>).reverse().map(([name, r]) => ({
      name, prefix: r.prefix, cluster: r.cluster === DEEPSEEK ? "deepseek" : "qwen", cluster_name: r.cluster,
    })),
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: CONSUMERS.map((name) => ({ name, credential: credential(name) })) } },
      { name: "ai-statistics", wasm: pluginWasm("ai-statistics"), config: {} },
      { name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { _rules_: [
        { _match_route_: routesWhere("quota", "up"), admin_consumer: "admin", redis: REDIS },
        // Let through when the quota store is down, so the rate limit's store failure is seen too.
        { _match_route_: routesWhere("quota", "down"), admin_consumer: "admin", failure_mode_deny: false, redis: CLOSED_REDIS },
      ] } },
      { name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { _rules_: [
        { _match_route_: routesWhere("limiter", "up"), rule_name: "dash", rule_items: [CONSUMER_LIMITS], redis: REDIS },
        // An x-user header is matched first, against a key no 12 KB value can be decided by.
        { _match_route_: routesWhere("limiter", "header"), rule_name: "limited", redis: REDIS, rule_items: [
          { limit_by_per_header: "x-user", limit_keys: [{ key: UNDECIDABLE_KEY, token_per_minute: 1_000_000_000 }] }, CONSUMER_LIMITS,
        ] },
        { _match_route_: routesWhere("limiter", "down"), rule_name: "dash", rule_items: [CONSUMER_LIMITS], redis: CLOSED_REDIS },
      ] } },
    ],
  };
}

interface Labels {
  ai_route: string;
  ai_cluster: string;
  ai_model: string;
  ai_consumer: string;
}

/** One request as its client saw it, and what the test knows of where it went. */
interface Outcome {
  route: Route;
  consumer: string;
  model: string;
  status: number;
  streamed: boolean;
  /** The usage the answer told the client; null when it told none. */
  usage: { input: number; output: number; total: number } | null;
  /** What each plugin charged for an answer without usage, read from Redis. */
  estimated: { quota: number; limiter: number } | null;
  /** The rate limit's counter of this consumer holds no number: the charge fails. */
  counterNotANumber: boolean;
  /** From sending the request to the answer's last byte, as the client measured it. */
  ms: number;
}

/** The counters one outcome adds to, by a name of what happened, each with its labels. */
type Fact =
  | "input" | "output" | "total" | "answers" | "streams"
  | "quotaInput" | "quotaOutput" | "quotaEstimated" | "limiterInput" | "limiterOutput" | "limiterEstimated"
  | "rateLimited" | "noQuota" | "quotaBodyRefused" | "limiterBodyRefused" | "valueTooLong"
  | "quotaStoreFailure" | "limiterStoreFailure" | "quotaChargeFailure" | "limiterChargeFailure";

function facts(o: Outcome): Array<{ fact: Fact; labels: Labels; value: number }> {
  const route = ROUTES[o.route];
  const labels = (model: string): Labels => ({ ai_route: o.route, ai_cluster: route.cluster, ai_model: model, ai_consumer: o.consumer });
  const out: Array<{ fact: Fact; labels: Labels; value: number }> = [];
  const add = (fact: Fact, value: number, model = o.model) => out.push({ fact, labels: labels(model), value });
  const served = o.status === 200;
  if (served && o.usage) {
    add("input", o.usage.input);
    add("output", o.usage.output);
    add("total", o.usage.total);
    add("answers", 1);
    if (o.streamed) add("streams", 1);
    if (route.quota !== "off") {
      add("quotaInput", o.usage.input);
      add("quotaOutput", o.usage.output);
    }
    // Every route runs the rate limit.
    add("limiterInput", o.usage.input);
    add("limiterOutput", o.usage.output);
  }
  if (served && o.estimated) {
    add("quotaEstimated", o.estimated.quota);
    add("limiterEstimated", o.estimated.limiter);
  }
  // The plugins' own answers and failures carry model `none`.
  if (o.status === 429) add("rateLimited", 1, "none");
  if (o.status === 403) add("noQuota", 1, "none");
  if (o.status === 400) add(route.quota === "off" ? "limiterBodyRefused" : "quotaBodyRefused", 1, "none");
  if (o.status === 431) add("valueTooLong", 1, "none");
  // A closed store port: each check fails (let through), then the charge of a served answer, whose
  // failure arrives as Redis's reply, after the stream, and is counted with model `none`.
  if (route.quota === "down") {
    add("quotaStoreFailure", 1, "none");
    if (served) add("quotaChargeFailure", 1, "none");
  }
  if (route.limiter === "down") {
    add("limiterStoreFailure", 1, "none");
    if (served) add("limiterChargeFailure", 1, "none");
  }
  if (served && o.counterNotANumber) add("limiterChargeFailure", 1, "none");
  return out;
}

/** Each fact's metric family, by the plugins' constants: the raw counters must hold the same numbers. */
const FAMILIES: Record<Fact, string> = {
  input: statisticsMetric("INPUT_TOKEN_METRIC"), output: statisticsMetric("OUTPUT_TOKEN_METRIC"), total: statisticsMetric("TOTAL_TOKEN_METRIC"),
  answers: statisticsMetric("DURATION_COUNT_METRIC"), streams: statisticsMetric("STREAM_DURATION_COUNT_METRIC"),
  quotaInput: quotaMetric("INPUT_TOKEN_METRIC"), quotaOutput: quotaMetric("OUTPUT_TOKEN_METRIC"), quotaEstimated: quotaMetric("ESTIMATED_TOKEN_METRIC"),
  limiterInput: ratelimitMetric("INPUT_TOKEN_METRIC"), limiterOutput: ratelimitMetric("OUTPUT_TOKEN_METRIC"), limiterEstimated: ratelimitMetric("ESTIMATED_TOKEN_METRIC"),
  rateLimited: ratelimitMetric("RATE_LIMITED_METRIC"), noQuota: quotaMetric("NO_QUOTA_METRIC"),
  quotaBodyRefused: quotaMetric("REQUEST_BODY_REFUSED_METRIC"), limiterBodyRefused: ratelimitMetric("REQUEST_BODY_REFUSED_METRIC"),
  valueTooLong: ratelimitMetric("VALUE_TOO_LONG_METRIC"),
  quotaStoreFailure: quotaMetric("STORE_FAILURE_METRIC"), limiterStoreFailure: ratelimitMetric("STORE_FAILURE_METRIC"),
  quotaChargeFailure: quotaMetric("CHARGE_FAILURE_METRIC"), limiterChargeFailure: ratelimitMetric("CHARGE_FAILURE_METRIC"),
};

type Label = keyof Labels | "provider";

/**
 * What each query of the dashboard must show, by `<panel title>/<refId>`: the sum of a fact by
 * labels, as an increase over the range or a rate over it; or a mean duration per model. Written
 * from what the panel says it shows, never from its query.
 */
type Expectation = { fact: Fact; by: Label[]; per: "range" | "second" } | { mean: "firstToken" | "service" };
const byModel: Label[] = ["ai_model"];
const EXPECTED: Record<string, Expectation> = {
  "Tokens per second/A": { fact: "input", by: [], per: "second" },
  "Tokens per second/B": { fact: "output", by: [], per: "second" },
  "Tokens per second/C": { fact: "total", by: [], per: "second" },
  "Input tokens per second by model/A": { fact: "input", by: byModel, per: "second" },
  "Output tokens per second by model/A": { fact: "output", by: byModel, per: "second" },
  "First token latency by model/A": { mean: "firstToken" },
  "Request duration by model/A": { mean: "service" },
  "Usage by provider/A": { fact: "input", by: ["ai_cluster", "provider"], per: "range" },
  "Usage by provider/B": { fact: "output", by: ["ai_cluster", "provider"], per: "range" },
  "Usage by provider/C": { fact: "total", by: ["ai_cluster", "provider"], per: "range" },
  "Usage by model/A": { fact: "input", by: byModel, per: "range" },
  "Usage by model/B": { fact: "output", by: byModel, per: "range" },
  "Usage by model/C": { fact: "total", by: byModel, per: "range" },
  "Usage by consumer/A": { fact: "input", by: ["ai_consumer"], per: "range" },
  "Usage by consumer/B": { fact: "output", by: ["ai_consumer"], per: "range" },
  "Usage by consumer/C": { fact: "total", by: ["ai_consumer"], per: "range" },
  "Rejections by reason/A": { fact: "rateLimited", by: [], per: "range" },
  "Rejections by reason/B": { fact: "noQuota", by: [], per: "range" },
  "Rejections by reason/C": { fact: "quotaBodyRefused", by: [], per: "range" },
  "Rejections by reason/D": { fact: "limiterBodyRefused", by: [], per: "range" },
  "Rejections by reason/E": { fact: "valueTooLong", by: [], per: "range" },
  "Rejections per second by consumer/A": { fact: "rateLimited", by: ["ai_consumer"], per: "second" },
  "Rejections per second by consumer/B": { fact: "noQuota", by: ["ai_consumer"], per: "second" },
  "Quota charged by consumer/A": { fact: "quotaInput", by: ["ai_consumer"], per: "range" },
  "Quota charged by consumer/B": { fact: "quotaOutput", by: ["ai_consumer"], per: "range" },
  "Quota charged by consumer/C": { fact: "quotaEstimated", by: ["ai_consumer"], per: "range" },
  "Rate limit charged by consumer/A": { fact: "limiterInput", by: ["ai_consumer"], per: "range" },
  "Rate limit charged by consumer/B": { fact: "limiterOutput", by: ["ai_consumer"], per: "range" },
  "Rate limit charged by consumer/C": { fact: "limiterEstimated", by: ["ai_consumer"], per: "range" },
  "Store failures by route/A": { fact: "quotaStoreFailure", by: ["ai_route"], per: "range" },
  "Store failures by route/B": { fact: "limiterStoreFailure", by: ["ai_route"], per: "range" },
  "Charge failures by route/A": { fact: "quotaChargeFailure", by: ["ai_route"], per: "range" },
  "Charge failures by route/B": { fact: "limiterChargeFailure", by: ["ai_route"], per: "range" },
};

const key = (labels: Record<string, string>, by: readonly string[]) => JSON.stringify(by.map((l) => [l, labels[l] ?? ""]));

/**
 * The series a sum of `fact` by `by` has over the window: every label set any run created (a
 * series of the first run stays, at 0 when the measured run added nothing), each with what the
 * measured run added.
 */
function expectedSums(fact: Fact, by: readonly Label[], filter: (o: Outcome) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  const withProvider = (l: Labels) => ({ ...l, provider: PROVIDERS[l.ai_cluster] ?? "" });
  for (const [run, outcomes] of [["first", runs.first], ["measured", runs.measured]] as const) {
    for (const o of outcomes.filter(filter)) {
      for (const f of facts(o).filter((f) => f.fact === fact)) {
        const k = key(withProvider(f.labels), by);
        out.set(k, (out.get(k) ?? 0) + (run === "measured" ? f.value : 0));
      }
    }
  }
  return out;
}

const runs: { first: Outcome[]; measured: Outcome[] } = { first: [], measured: [] };
let g: Gateway;
let silent: Upstream;
let prometheus: Prometheus;
let t0 = 0;
let t1 = 0;

async function limiterCounter(consumer: string): Promise<number> {
  const keys = await fixture.redis.client.keys(`${LIMIT_KEY_PREFIX}*:${consumer}`);
  let sum = 0;
  for (const k of keys) sum += Number(await fixture.redis.client.get(k));
  return sum;
}

async function quotaSpent(consumer: string): Promise<number> {
  return QUOTA_START - Number(await fixture.redis.client.get(`${QUOTA_KEY_PREFIX}${consumer}`));
}

/** One chat through the gateway; what its client was told. */
async function chat(consumer: string, route: Route, body: object | string, options: { headers?: Array<[string, string]> } = {}): Promise<Outcome> {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const parsed = typeof body === "string" ? {} : (body as Record<string, any>);
  const started = performance.now();
  const res = await request(`${g.url}${ROUTES[route].prefix.replace(/\/$/, "")}/v1/chat/completions`, {
    headers: [["x-api-key", credential(consumer)], ["content-type", "application/json"], ...(options.headers ?? [])],
    body: text,
  });
  const ms = performance.now() - started;
  const streamed = parsed.stream === true;
  let usage: Outcome["usage"] = null;
  if (res.status === 200) {
    const told = streamed
      ? res.body.split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)).usage).find((u) => u)
      : JSON.parse(res.body).usage;
    if (told) usage = { input: told.prompt_tokens, output: told.completion_tokens, total: told.total_tokens };
  }
  return { route, consumer, model: String(parsed.model ?? "none"), status: res.status, streamed, usage, estimated: null, counterNotANumber: false, ms };
}

const words = (n: number) => [{ role: "user", content: Array(n).fill("word").join(" ") }];
const STREAM = { stream: true, stream_options: { include_usage: true } };

/** Every counter the dashboard shows, provoked once; the same requests each run. */
async function scenario(): Promise<Outcome[]> {
  const out: Outcome[] = [];
  const expect = async (outcome: Promise<Outcome>, status: number) => {
    const o = await outcome;
    assert.equal(o.status, status, `${o.consumer} on ${o.route}`);
    out.push(o);
    return o;
  };
  await expect(chat("alice", "aliyun", { model: "qwen-max", messages: words(3) }), 200);
  await expect(chat("alice", "aliyun", { model: "qwen-turbo", ...STREAM, messages: words(4) }), 200);
  await expect(chat("bob", "aliyun", { model: "qwen-max", messages: words(7) }), 200);
  await expect(chat("bob", "aliyun", { model: "qwen-plus", ...STREAM, messages: words(5) }), 200);
  // carol's first chat of the minute is served and passes her limit; then she is rejected.
  const carol = await chat("carol", "aliyun", { model: "qwen-max", messages: words(3) });
  assert.ok(carol.status === 200 || carol.status === 429);
  out.push(carol);
  await waitFor(async () => (await limiterCounter("carol")) > CAROL_TOKENS_PER_MINUTE);
  await expect(chat("carol", "aliyun", { model: "qwen-max", messages: words(3) }), 429);
  // dave has no quota key.
  await expect(chat("dave", "aliyun", { model: "qwen-max", messages: words(3) }), 403);
  // A body no upstream would read as these plugins do: ai-quota refuses it where it runs, else the rate limit.
  await expect(chat("alice", "aliyun", `{"model":"qwen-max","stream":1}`), 400);
  await expect(chat("bob", "limited", `{"model":"qwen-max","stream":1}`), 400);
  await expect(chat("bob", "limited", { model: "qwen-max", messages: words(3) }, { headers: [["x-user", HUGE_VALUE]] }), 431);
  await expect(chat("bob", "limited", { model: "qwen-max", messages: words(2) }), 200);
  // erin's counter holds no number: the check reads 0, the charge fails.
  (await expect(chat("erin", "aliyun", { model: "qwen-max", messages: words(3) }), 200)).counterNotANumber = true;
  // frank's upstream reports no usage: both plugins charge an estimate, read back from Redis.
  const [quotaBefore, limiterBefore] = [await quotaSpent("frank"), await limiterCounter("frank")];
  const estimated = await expect(chat("frank", "deepseek", { model: "deepseek-chat", messages: words(5) }), 200);
  assert.equal(estimated.usage, null, "the client was told no usage");
  await waitFor(async () => (await quotaSpent("frank")) > quotaBefore && (await limiterCounter("frank")) > limiterBefore);
  estimated.estimated = { quota: (await quotaSpent("frank")) - quotaBefore, limiter: (await limiterCounter("frank")) - limiterBefore };
  // Both stores down for bob's route: let through, both checks and both charges fail.
  await expect(chat("bob", "broken", { model: "qwen-max", messages: words(6) }), 200);
  return out;
}

/** Waits until the gateway's counters stop moving, then for Prometheus to scrape them; the scrape's time. */
async function settledScrape(): Promise<number> {
  const target = new URL(g.adminUrl).host;
  const stats = async () => (await request(`${g.adminUrl}/stats/prometheus`)).body;
  let last = await stats();
  await waitFor(async () => {
    await new Promise((r) => setTimeout(r, 300));
    const now = await stats();
    const same = now === last;
    last = now;
    return same;
  }, 10_000, 0);
  // Prometheus may move a timestamp up to 2 ms onto the interval's grid (--scrape.timestamp-tolerance).
  const settled = (await prometheus.scrapedAfter(Date.now() + 5)).get(target)!;
  // And one scrape more, so the window's last interval adds nothing: a query that reads only the
  // last two samples (irate) answers 0 there, not the window's rate.
  return (await prometheus.scrapedAfter(settled + 1)).get(target)!;
}

/** The gateway, Prometheus, both runs of the scenario and the scrapes T0 and T1. */
async function setUp(): Promise<void> {
  silent = await startUpstream({ noUsage: true });
  g = fixture.track(await startGateway(gatewayConfig(fixture.upstream, silent, await freePort())));
  for (const consumer of CONSUMERS.filter((c) => c !== "dave")) await fixture.redis.client.set(`${QUOTA_KEY_PREFIX}${consumer}`, QUOTA_START);
  await fixture.redis.client.set(`${LIMIT_KEY_PREFIX}dash:limit_by_per_consumer:60:x-mse-consumer:erin`, "not-a-number");
  prometheus = await startPrometheus([new URL(g.adminUrl).host]);
  runs.first = await scenario();
  t0 = await settledScrape();
  runs.measured = await scenario();
  t1 = await settledScrape();
}

after(async () => {
  await prometheus?.stop();
  await silent?.close();
});

/** Grafana's variables as the dashboard sets them for the range T0..T1 and the chosen routes and consumers. */
function substitute(expr: string, routes: readonly string[], consumers: readonly string[]): string {
  const window = `${t1 - t0}ms`;
  // A multi-value variable is written as a regex alternation of the chosen values.
  const values = (list: readonly string[]) => (list.length === 1 ? list[0] : `(${list.join("|")})`);
  return expr
    .replaceAll("$__rate_interval", window)
    .replaceAll("$__range", window)
    .replaceAll("$__interval", window)
    .replaceAll("$route", values(routes))
    .replaceAll("$consumer", values(consumers));
}

/** Each answered series by the labels `by`, its value rounded to the float noise of a division. */
function answered(samples: PromSample[], by: readonly string[], scale = 1): Map<string, number> {
  return new Map(samples.map((s) => [key(s.metric, by), Math.round(s.value * scale * 1e6) / 1e6]));
}

/** Labels Grafana's legend `{{label}}` names must be on every series the query answers. */
function assertLegend(query: DashboardQuery, samples: PromSample[]): void {
  for (const [, label] of query.legend.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
    for (const s of samples) assert.ok(s.metric[label], `${query.name}: the legend's ${label} is a label of ${JSON.stringify(s.metric)}`);
  }
}

/** The raw sum of a family by model at a time, from Prometheus (the counters themselves). */
async function rawByModel(family: string, at: number, filter: string): Promise<Map<string, number>> {
  return new Map((await prometheus.query(`sum by (ai_model) (${prometheusFamily(family)}${filter})`, at)).map((s) => [s.metric.ai_model, s.value]));
}

async function assertMean(query: DashboardQuery, mean: "firstToken" | "service", routes: readonly string[], consumers: readonly string[]): Promise<void> {
  const samples = await prometheus.query(substitute(query.expr, routes, consumers), t1);
  assertLegend(query, samples);
  const filter = `{ai_route=~"${routes.join("|")}",ai_consumer=~"${consumers.join("|")}"}`;
  const [sum, count] = mean === "firstToken"
    ? [statisticsMetric("FIRST_TOKEN_DURATION_METRIC"), statisticsMetric("STREAM_DURATION_COUNT_METRIC")]
    : [statisticsMetric("SERVICE_DURATION_METRIC"), statisticsMetric("DURATION_COUNT_METRIC")];
  const [sum0, sum1, count0, count1] = await Promise.all([rawByModel(sum, t0, filter), rawByModel(sum, t1, filter), rawByModel(count, t0, filter), rawByModel(count, t1, filter)]);
  const timed = runs.measured.filter((o) => o.status === 200 && o.usage && (mean === "service" || o.streamed))
    .filter((o) => routes.includes(o.route) && consumers.includes(o.consumer));
  const models = [...new Set(timed.map((o) => o.model))].sort();
  assert.deepEqual(samples.map((s) => s.metric.ai_model).sort(), models, `${query.name}: one series per model answered in the window`);
  for (const s of samples) {
    const model = s.metric.ai_model;
    const answers = timed.filter((o) => o.model === model);
    assert.equal((count1.get(model) ?? 0) - (count0.get(model) ?? 0), answers.length, `${query.name}: ${model}'s answers counted`);
    const expected = ((sum1.get(model) ?? 0) - (sum0.get(model) ?? 0)) / answers.length;
    assert.ok(Math.abs(s.value - expected) < 1e-6, `${query.name}: ${model}'s mean ${s.value} ms is the counters' ${expected} ms`);
    // The gateway's clock runs inside the client's: no mean longer than the longest answer the client waited for.
    assert.ok(s.value >= 0 && s.value <= Math.max(...answers.map((o) => o.ms)) + 1, `${query.name}: ${model}'s mean ${s.value} ms within what its clients waited`);
  }
}

async function assertQuery(query: DashboardQuery, routes: readonly string[], consumers: readonly string[]): Promise<void> {
  const expectation = EXPECTED[query.name];
  assert.ok(expectation, `${query.name} has an expectation in this test`);
  if ("mean" in expectation) return assertMean(query, expectation.mean, routes, consumers);
  const samples = await prometheus.query(substitute(query.expr, routes, consumers), t1);
  assertLegend(query, samples);
  const seconds = (t1 - t0) / 1000;
  const chosen = (o: Outcome) => routes.includes(o.route) && consumers.includes(o.consumer);
  const expected = expectedSums(expectation.fact, expectation.by, chosen);
  const scale = expectation.per === "second" ? seconds : 1;
  assert.deepEqual(answered(samples, expectation.by, scale), expected, `${query.name} (${expectation.per === "second" ? "per second, times the window's seconds" : "over the window"}): ${query.expr}`);
}

const ALL_ROUTES = Object.keys(ROUTES);

// One test whose subtests share the runs: node 20 starts a file's top-level before hooks together,
// so the fixture's redis-server would not be there yet for a before hook of this file.
test("the shipped dashboard against a real Prometheus scraping the gateway", async (t) => {
  await setUp();

  await t.test("the scenario provoked every fact the dashboard shows in both runs (no query can pass on an empty answer)", () => {
    for (const run of [runs.first, runs.measured]) {
      const seen = new Set(run.flatMap((o) => facts(o).map((f) => f.fact)));
      for (const fact of Object.keys(FAMILIES)) assert.ok(seen.has(fact as Fact), `${fact} happened`);
    }
  });

  await t.test("every query of the dashboard has an expectation here, and every expectation a query", () => {
    assert.deepEqual(dashboardQueries().map((q) => q.name).sort(), Object.keys(EXPECTED).sort());
  });

  await t.test("raw counters: every family equals, by all four labels, the usage told to clients and the rejections and failures they saw", async () => {
    const all = [...runs.first, ...runs.measured];
    for (const [fact, family] of Object.entries(FAMILIES) as Array<[Fact, string]>) {
      const labels = ["ai_route", "ai_cluster", "ai_model", "ai_consumer"];
      const expected = new Map<string, number>();
      for (const f of all.flatMap(facts).filter((f) => f.fact === fact)) {
        const k = key(f.labels as unknown as Record<string, string>, labels);
        expected.set(k, (expected.get(k) ?? 0) + f.value);
      }
      const samples = await prometheus.query(`sum by (${labels.join(", ")}) (${prometheusFamily(family)})`, t1);
      assert.deepEqual(answered(samples, labels), expected, `${prometheusFamily(family)} (${fact})`);
    }
  });

  await t.test("template variables: label_values lists every route and consumer that sent traffic", async () => {
    const variables = templateVariables();
    const values = new Map(await Promise.all(variables.map(async (v) => [v.name, await prometheus.labelValues(v.label)] as [string, string[]])));
    for (const route of ALL_ROUTES) assert.ok(values.get("route")?.includes(route), `route lists ${route}`);
    for (const consumer of CONSUMERS) assert.ok(values.get("consumer")?.includes(consumer), `consumer lists ${consumer}`);
  });

  for (const query of dashboardQueries()) {
    await t.test(`${query.name}: every route and consumer chosen, the numbers the clients were told`, async () => {
      await assertQuery(query, ALL_ROUTES, CONSUMERS);
    });
    await t.test(`${query.name}: route aliyun and consumer bob chosen, only theirs`, async () => {
      await assertQuery(query, ["aliyun"], ["bob"]);
    });
  }
});
