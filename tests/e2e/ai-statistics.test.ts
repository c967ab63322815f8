/**
 * ai-statistics through the gateway, chained as the walkthrough does (key-auth, ai-statistics,
 * ai-quota, ai-token-ratelimit, a real redis-server): Higress's metrics on /stats/prometheus equal
 * the usage each client was told, for every usage format the reader knows, streamed and not; the
 * durations cover the upstream's delay; each access log line carries Higress's default ai_log
 * fields and the configured attributes; bodies it cannot read pass unchanged; refused
 * configurations name the field.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import OpenAI from "openai";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";
import { startUpstream, promptTokensOf, type UpstreamOptions } from "../support/upstream.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { refusal, accepted } from "../support/configure.ts";
import { sourceConstant } from "../support/source-constants.ts";
import { prometheusFamily, statisticsMetric, quotaMetric, scrapedSeries } from "../support/metric-names.ts";

const COMPLETION = 12;
const DELAY_MS = 120;
const fixture = e2eFixture({ completionTokens: COMPLETION, chunkSize: 64 });

const REDIS_CLUSTER = "outbound|80||local-redis.static";
const REDIS = { service_name: "local-redis.static", service_port: 80 };
const CLUSTER = "outbound|443||llm.dns";
const LOG_KEYS = "plugins/ai-statistics/ai-log-keys.ts";
const key = (name: string) => sourceConstant(LOG_KEYS, name);
const metric = (name: string) => prometheusFamily(statisticsMetric(name));

interface Told {
  input: number;
  output: number;
  total: number;
}

/** One format: a request, and the usage its answer tells the client (null: the client is told none). */
interface Format {
  name: string;
  path: string;
  body: object;
  sse: boolean;
  chatId: string;
  told(body: string): Told | null;
}

const MESSAGES = [{ role: "system", content: "Be brief." }, { role: "user", content: "Who are you?" }, { role: "assistant", content: "A model." }, { role: "user", content: "Say more about yourself" }];
const GEMINI = { contents: [{ role: "user", parts: [{ text: "Who are you today?" }] }] };

/** The JSON of each SSE data line that is an object. */
function sseData(body: string): any[] {
  return body.split(/\r?\n/).filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6)));
}
const openAi = (u: any): Told => ({ input: u.prompt_tokens, output: u.completion_tokens ?? 0, total: u.total_tokens });
const responses = (u: any): Told => ({ input: u.input_tokens, output: u.output_tokens, total: u.total_tokens });
const gemini = (u: any): Told => ({ input: u.promptTokenCount, output: u.candidatesTokenCount, total: u.totalTokenCount });

const FORMATS: Format[] = [
  { name: "chat", path: "/v1/chat/completions", body: { model: "qwen-max", messages: MESSAGES }, sse: false, chatId: "chatcmpl-test", told: (b) => openAi(JSON.parse(b).usage) },
  {
    name: "chat-stream", path: "/v1/chat/completions", body: { model: "qwen-max", stream: true, stream_options: { include_usage: true }, messages: MESSAGES }, sse: true, chatId: "chatcmpl-test",
    told: (b) => openAi(sseData(b).findLast((d) => d.usage)!.usage),
  },
  { name: "completions", path: "/v1/completions", body: { model: "qwen-turbo", prompt: "Say this is a test" }, sse: false, chatId: "cmpl-test", told: (b) => openAi(JSON.parse(b).usage) },
  { name: "embeddings", path: "/v1/embeddings", body: { model: "text-embedding-v3", input: "one two three" }, sse: false, chatId: "", told: (b) => openAi(JSON.parse(b).usage) },
  { name: "responses", path: "/v1/responses", body: { model: "gpt-4o", input: "Who are you today?" }, sse: false, chatId: "resp_test", told: (b) => responses(JSON.parse(b).usage) },
  {
    name: "responses-stream", path: "/v1/responses", body: { model: "gpt-4o", stream: true, input: "Who are you today?" }, sse: true, chatId: "resp_test",
    told: (b) => responses(sseData(b).find((d) => d.type === "response.completed").response.usage),
  },
  {
    name: "messages", path: "/v1/messages", body: { model: "claude-sonnet", max_tokens: 64, messages: MESSAGES.slice(1) }, sse: false, chatId: "msg_test",
    told: (b) => {
      const u = JSON.parse(b).usage;
      return { input: u.input_tokens, output: u.output_tokens, total: u.input_tokens + u.output_tokens };
    },
  },
  {
    name: "messages-stream", path: "/v1/messages", body: { model: "claude-sonnet", stream: true, max_tokens: 64, messages: MESSAGES.slice(1) }, sse: true, chatId: "msg_test",
    told: (b) => {
      const data = sseData(b);
      const input = data.find((d) => d.type === "message_start").message.usage.input_tokens;
      const output = data.find((d) => d.type === "message_delta").usage.output_tokens;
      return { input, output, total: input + output };
    },
  },
  { name: "gemini", path: "/v1beta/models/gemini-2.0-flash:generateContent", body: GEMINI, sse: false, chatId: "", told: (b) => gemini(JSON.parse(b).usageMetadata) },
  {
    name: "gemini-sse", path: "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", body: GEMINI, sse: true, chatId: "",
    told: (b) => gemini(sseData(b).findLast((d) => d.usageMetadata)!.usageMetadata),
  },
  {
    name: "gemini-array", path: "/v1beta/models/gemini-2.0-flash:streamGenerateContent", body: GEMINI, sse: false, chatId: "",
    told: (b) => gemini(JSON.parse(b).at(-1).usageMetadata),
  },
];

const consumerOf = (name: string) => ({ name: `user-${name}`, credential: `key-${name}-0001` });
const CONSUMERS = [...FORMATS.map((f) => consumerOf(f.name)), consumerOf("openai-client"), consumerOf("plain")];

/** key-auth, ai-statistics, ai-quota and ai-token-ratelimit in Higress's order (console priorities 900, 750, 600 in the default phase). */
async function chain(statistics: object = {}, upstreamUrl = fixture.upstream.url, quota = true): Promise<Gateway> {
  return fixture.track(await startGateway({
    clusters: { llm: { url: upstreamUrl }, [REDIS_CLUSTER]: { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm", cluster_name: CLUSTER }],
    plugins: [
      { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: CONSUMERS } },
      { name: "ai-statistics", wasm: pluginWasm("ai-statistics"), config: statistics },
      ...(quota ? [{ name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "admin", redis: REDIS } }] : []),
      {
        name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"),
        config: { rule_name: "stats", rule_items: [{ limit_by_per_consumer: "", limit_keys: [{ key: "*", token_per_minute: 1_000_000_000 }] }], redis: REDIS },
      },
    ],
  }));
}

async function fundAll(): Promise<void> {
  for (const { name } of CONSUMERS) await fixture.redis.client.set(`chat_quota:${name}`, 1_000_000);
}

/** One request as `consumer`; its status, body and what it took the client. */
async function send(g: Gateway, consumer: string, path: string, body: object | string, headers: Array<[string, string]> = []) {
  const credential = CONSUMERS.find((c) => c.name === consumer)!.credential;
  const started = performance.now();
  const res = await request(`${g.url}${path}`, {
    headers: [["x-api-key", credential], ["content-type", "application/json"], ...headers],
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { ...res, elapsedMs: performance.now() - started };
}

const labels = (consumer: string, model: string) => `{ai_route="aliyun",ai_cluster="${CLUSTER}",ai_model="${model}",ai_consumer="${consumer}"}`;

async function scrape(g: Gateway): Promise<Map<string, number>> {
  return scrapedSeries((await request(`${g.adminUrl}/stats/prometheus`)).body);
}

/** The access log lines' ai_log objects, once `count` lines are there. */
async function aiLogs(g: Gateway, count: number): Promise<any[]> {
  await waitFor(() => g.accessLog().length >= count);
  return g.accessLog().map((line) => JSON.parse(JSON.parse(line).ai_log));
}

/** The model label each format's answer names (the upstream echoes the request's; Gemini's bodies name none, its answers `test-model`). */
const modelOf = (f: Format) => String((f.body as { model?: string }).model ?? "test-model");

test("every usage format, streamed and not: input_token, output_token and total_token equal what the client was told, one duration count per answer", async () => {
  const g = await chain();
  await fundAll();
  const told = new Map<string, Told>();
  for (const f of FORMATS) {
    for (let i = 0; i < 2; i++) {
      const res = await send(g, `user-${f.name}`, f.path, f.body);
      assert.equal(res.status, 200, f.name);
      const usage = f.told(res.body)!;
      assert.ok(usage.input > 0 && usage.total > 0, `${f.name} reports usage`);
      const sum = told.get(f.name) ?? { input: 0, output: 0, total: 0 };
      told.set(f.name, { input: sum.input + usage.input, output: sum.output + usage.output, total: sum.total + usage.total });
    }
  }
  let scraped = new Map<string, number>();
  await waitFor(async () => {
    scraped = await scrape(g);
    return FORMATS.every((f) => scraped.get(metric("TOTAL_TOKEN_METRIC") + labels(`user-${f.name}`, modelOf(f))) === told.get(f.name)!.total);
  }, 3000).catch(() => {});
  for (const f of FORMATS) {
    const at = labels(`user-${f.name}`, modelOf(f));
    const sum = told.get(f.name)!;
    assert.equal(scraped.get(metric("INPUT_TOKEN_METRIC") + at), sum.input, `${f.name}: input_token`);
    // Higress adds nothing for 0: embeddings have no output_token series.
    assert.equal(scraped.get(metric("OUTPUT_TOKEN_METRIC") + at), sum.output === 0 ? undefined : sum.output, `${f.name}: output_token`);
    assert.equal(scraped.get(metric("TOTAL_TOKEN_METRIC") + at), sum.total, `${f.name}: total_token`);
    assert.equal(scraped.get(metric("DURATION_COUNT_METRIC") + at), 2, `${f.name}: llm_duration_count`);
    assert.equal(scraped.get(metric("STREAM_DURATION_COUNT_METRIC") + at), f.sse ? 2 : undefined, `${f.name}: llm_stream_duration_count only for SSE answers`);
    // ai-quota, later in the chain, charged the same answers.
    assert.equal(scraped.get(prometheusFamily(quotaMetric("INPUT_TOKEN_METRIC")) + at), sum.input, `${f.name}: ai-quota saw the same usage`);
  }
  const text = (await request(`${g.adminUrl}/stats/prometheus`)).body;
  for (const name of ["INPUT_TOKEN_METRIC", "OUTPUT_TOKEN_METRIC", "TOTAL_TOKEN_METRIC", "SERVICE_DURATION_METRIC", "DURATION_COUNT_METRIC", "FIRST_TOKEN_DURATION_METRIC", "STREAM_DURATION_COUNT_METRIC"]) {
    assert.equal(text.split("\n").filter((l) => l === `# TYPE ${metric(name)} counter`).length, 1, `${metric(name)} is one counter family`);
  }
});

test("a stream the openai client sends without stream_options is counted from the usage ai-statistics asked for, which the client never sees", async () => {
  const g = await chain();
  await fundAll();
  const client = new OpenAI({ apiKey: "unused", baseURL: `${g.url}/v1`, defaultHeaders: { "x-api-key": consumerOf("openai-client").credential } });
  const stream = await client.chat.completions.create({ model: "qwen-max", messages: [{ role: "user", content: "Who are you today?" }], stream: true });
  let usageSeen = false;
  for await (const chunk of stream) if (chunk.usage) usageSeen = true;
  assert.equal(usageSeen, false, "the usage-only event is taken out");
  const sent = fixture.upstream.requests.at(-1)!;
  assert.deepEqual(JSON.parse(sent.body).stream_options, { include_usage: true });
  const input = promptTokensOf(sent.body);
  const at = labels("user-openai-client", "qwen-max");
  let scraped = new Map<string, number>();
  await waitFor(async () => (scraped = await scrape(g)).get(metric("TOTAL_TOKEN_METRIC") + at) === input + COMPLETION).catch(() => {});
  assert.deepEqual([metric("INPUT_TOKEN_METRIC"), metric("OUTPUT_TOKEN_METRIC"), metric("TOTAL_TOKEN_METRIC")].map((m) => scraped.get(m + at)), [input, COMPLETION, input + COMPLETION]);
});

test("durations: llm_service_duration and llm_first_token_duration cover the upstream's delay, in milliseconds, and stay within what the client waited", async () => {
  const slow = await startUpstream({ completionTokens: COMPLETION, headersDelayMs: DELAY_MS, chunkSize: 200, chunkDelayMs: 20 } satisfies UpstreamOptions);
  try {
    const g = await chain({}, slow.url);
    await fundAll();
    const plain = await send(g, "user-chat", "/v1/chat/completions", FORMATS[0].body);
    const streamed = await send(g, "user-chat-stream", "/v1/chat/completions", FORMATS[1].body);
    assert.deepEqual([plain.status, streamed.status], [200, 200]);
    const [plainLog, streamLog] = await aiLogs(g, 2);
    for (const [log, res] of [[plainLog, plain], [streamLog, streamed]] as const) {
      assert.ok(log[key("SERVICE_DURATION_KEY")] >= DELAY_MS, `service duration ${log[key("SERVICE_DURATION_KEY")]} ≥ the upstream's ${DELAY_MS} ms`);
      assert.ok(log[key("SERVICE_DURATION_KEY")] <= res.elapsedMs + 5, "no longer than the client waited");
    }
    const first = streamLog[key("FIRST_TOKEN_DURATION_KEY")];
    assert.ok(first >= DELAY_MS && first <= streamLog[key("SERVICE_DURATION_KEY")], `first token ${first} ms: after the delay, before the end`);
    assert.ok(streamLog[key("SERVICE_DURATION_KEY")] - first >= 20, "a stream written in chunks 20 ms apart ends after its first byte");
    assert.equal(plainLog[key("FIRST_TOKEN_DURATION_KEY")], undefined, "no first-token duration for an answer that is not streamed");
    const scraped = await scrape(g);
    assert.equal(scraped.get(metric("SERVICE_DURATION_METRIC") + labels("user-chat", "qwen-max")), plainLog[key("SERVICE_DURATION_KEY")]);
    assert.equal(scraped.get(metric("SERVICE_DURATION_METRIC") + labels("user-chat-stream", "qwen-max")), streamLog[key("SERVICE_DURATION_KEY")]);
    assert.equal(scraped.get(metric("FIRST_TOKEN_DURATION_METRIC") + labels("user-chat-stream", "qwen-max")), first);
    assert.equal(scraped.get(metric("FIRST_TOKEN_DURATION_METRIC") + labels("user-chat", "qwen-max")), undefined);
  } finally {
    await slow.close();
  }
});

test("the access log line has Higress's default ai_log fields for each format, merged with the charging plugins' keys", async () => {
  const g = await chain();
  await fundAll();
  const told: Array<Told> = [];
  for (const f of FORMATS) {
    const res = await send(g, `user-${f.name}`, f.path, f.body, [["x-agent-session", `session-${f.name}`]]);
    assert.equal(res.status, 200);
    told.push(f.told(res.body)!);
  }
  const logs = await aiLogs(g, FORMATS.length);
  FORMATS.forEach((f, i) => {
    const log = logs[i];
    const expected: Record<string, unknown> = {
      [key("MODEL_KEY")]: modelOf(f),
      [key("INPUT_TOKEN_KEY")]: told[i].input,
      [key("OUTPUT_TOKEN_KEY")]: told[i].output,
      [key("TOTAL_TOKEN_KEY")]: told[i].total,
      [key("RESPONSE_TYPE_KEY")]: f.sse ? key("RESPONSE_STREAM") : key("RESPONSE_NORMAL"),
      [key("API_KEY")]: "-",
      [key("SESSION_ID_KEY")]: `session-${f.name}`,
      // OpenAI and Anthropic count their user messages, Gemini its contents, the rest none.
      [key("CHAT_ROUND_KEY")]: f.path.endsWith("/chat/completions") ? 2 : f.path === "/v1/messages" ? 2 : f.path.includes("Content") ? 1 : 0,
    };
    if (f.chatId) expected[key("CHAT_ID_KEY")] = f.chatId;
    for (const [name, value] of Object.entries(expected)) assert.deepEqual(log[name], value, `${f.name}: ${name}`);
    assert.equal(typeof log[key("SERVICE_DURATION_KEY")], "number");
    assert.equal(typeof log[key("FIRST_TOKEN_DURATION_KEY")], f.sse ? "number" : "undefined", `${f.name}: first token duration for streams only`);
    assert.equal(log.quota_input_token, told[i].input, "ai-quota's keys are merged in the same object");
  });
  assert.match(JSON.parse(g.accessLog()[0]).ai_log, /,"api":"-","chat_id":"chatcmpl-test","chat_round":2,"input_token":\d+,"llm_service_duration":\d+,"model":"qwen-max",/, "one JSON object, ours in Go's order after what the charging plugins wrote first");
});

test("attributes: fixed values, headers, request and response bodies and streamed answers reach ai_log, with defaults and the length limit", async () => {
  const g = await chain({
    session_id_header: "x-session",
    value_length_limit: 40,
    attributes: [
      { key: "tenant", value_source: "fixed_value", value: "blue", apply_to_log: true },
      { key: "client", value_source: "request_header", value: "X-Client", apply_to_log: true },
      { key: "absent_header", value_source: "request_header", value: "x-none", default_value: "none", apply_to_log: true },
      { key: "question", apply_to_log: true },
      { key: "first_user", value_source: "request_body", value: "messages.1.content", apply_to_log: true },
      { key: "turns", value_source: "request_body", value: "messages.#", apply_to_log: true },
      { key: "last_role", value_source: "request_body", value: "messages.@reverse.0.role", apply_to_log: true },
      { key: "missing", value_source: "request_body", value: "no.such.path", apply_to_log: true },
      { key: "upstream_type", value_source: "response_header", value: "content-type", apply_to_log: true },
      { key: "answer", apply_to_log: true },
      { key: "finish", value_source: "response_body", value: "choices.0.finish_reason", apply_to_log: true },
      { key: "completion", value_source: "response_body", value: "usage.completion_tokens", apply_to_log: true },
      { key: "message", value_source: "response_body", value: "choices.0.message", apply_to_log: true },
      { key: "first_model", value_source: "response_streaming_body", value: "model", rule: "first", apply_to_log: true },
      { key: "last_finish", value_source: "response_streaming_body", value: "choices.0.finish_reason", rule: "replace", apply_to_log: true },
      { key: "not_logged", value_source: "fixed_value", value: "x" },
    ],
  });
  await fundAll();
  const headers: Array<[string, string]> = [["x-client", "cli/1.0"], ["x-session", "s-1"], ["x-agent-session", "ignored"]];
  assert.equal((await send(g, "user-chat", "/v1/chat/completions", FORMATS[0].body, headers)).status, 200);
  assert.equal((await send(g, "user-chat-stream", "/v1/chat/completions", FORMATS[1].body, headers)).status, 200);
  const [plain, streamed] = await aiLogs(g, 2);
  const answer = "I am a test model, answering from the loopback upstream.";
  const cut = (text: string) => text.slice(0, 20) + " [truncated] " + text.slice(-20);
  for (const log of [plain, streamed]) {
    assert.deepEqual(
      [log.tenant, log.client, log.absent_header, log.question, log.first_user, log.turns, log.last_role, log.missing, log.session_id, log.not_logged],
      ["blue", "cli/1.0", "none", "Say more about yourself", "Who are you?", 4, "user", null, "s-1", undefined],
    );
  }
  assert.deepEqual([plain.upstream_type, plain.answer, plain.finish, plain.completion], ["application/json", cut(answer), "stop", COMPLETION]);
  assert.equal(plain.message, cut(JSON.stringify({ role: "assistant", content: answer })), "an object longer than the limit is its JSON, cut");
  assert.deepEqual([streamed.upstream_type, streamed.answer, streamed.first_model, streamed.last_finish], ["text/event-stream", cut(answer), "qwen-max", "stop"]);
  assert.equal(streamed.finish, undefined, "response_body attributes are for answers that are not streamed");
});

test("answers from a protocol the reader does not know are counted from attributes named model, input_token, output_token and total_token (Higress's way)", async () => {
  const g = await chain({
    disable_openai_usage: false,
    attributes: [
      { key: "model", value_source: "response_body", value: "path", apply_to_log: true },
      { key: "input_token", value_source: "request_body", value: "tokens.in", apply_to_log: true },
      { key: "output_token", value_source: "request_body", value: "tokens.out", apply_to_log: true },
      { key: "total_token", value_source: "request_body", value: "tokens.all", apply_to_log: true },
    ],
  }, fixture.upstream.url, false);
  // The upstream answers an unknown path with {"ok":true,"path":…}: no usage the reader knows.
  const res = await send(g, "user-plain", "/custom/generate", { tokens: { in: 7, out: 5, all: 12 } });
  assert.equal(res.status, 200);
  const [log] = await aiLogs(g, 1);
  assert.deepEqual([log.model, log.input_token, log.output_token, log.total_token], ["/custom/generate", 7, 5, 12]);
  const scraped = await scrape(g);
  const at = `{ai_route="aliyun",ai_cluster="${CLUSTER}",ai_model="/custom/generate",ai_consumer="user-plain"}`;
  assert.deepEqual(["INPUT_TOKEN_METRIC", "OUTPUT_TOKEN_METRIC", "TOTAL_TOKEN_METRIC", "DURATION_COUNT_METRIC"].map((m) => scraped.get(metric(m) + at)), [7, 5, 12, 1]);
});

test("disable_openai_usage: no model or tokens in ai_log and no metrics; enable_path_suffixes and enable_content_types leave other requests alone", async () => {
  const off = await chain({ disable_openai_usage: true });
  await fundAll();
  assert.equal((await send(off, "user-chat", "/v1/chat/completions", FORMATS[0].body)).status, 200);
  const [log] = await aiLogs(off, 1);
  assert.deepEqual([log.model, log.input_token, log.response_type], [undefined, undefined, key("RESPONSE_NORMAL")]);
  assert.equal([...(await scrape(off)).keys()].some((s) => s.startsWith(metric("INPUT_TOKEN_METRIC")) || s.startsWith(metric("DURATION_COUNT_METRIC"))), false);

  const gated = await chain({ enable_path_suffixes: ["/v1/embeddings"], enable_content_types: ["application/json"] });
  await fundAll();
  assert.equal((await send(gated, "user-chat", "/v1/chat/completions", FORMATS[0].body)).status, 200);
  assert.equal((await send(gated, "user-embeddings", "/v1/embeddings", FORMATS[3].body)).status, 200);
  const [chat, embeddings] = await aiLogs(gated, 2);
  assert.equal(chat.api, undefined, "a path not enabled: nothing written");
  assert.equal(chat.quota_input_token > 0, true, "the other plugins still charge it");
  assert.equal(embeddings.api, "-");
  const scraped = await scrape(gated);
  assert.equal(scraped.get(metric("INPUT_TOKEN_METRIC") + labels("user-chat", "qwen-max")), undefined);
  // (A message of its own: assert.ok without one parses this TypeScript line to describe it, and can hang.)
  assert.ok((scraped.get(metric("INPUT_TOKEN_METRIC") + labels("user-embeddings", "text-embedding-v3")) ?? 0) > 0, "an enabled path is counted");

  const types = await chain({ enable_content_types: ["application/json"] });
  await fundAll();
  assert.equal((await send(types, "user-chat-stream", "/v1/chat/completions", FORMATS[1].body)).status, 200);
  const [stream] = await aiLogs(types, 1);
  assert.deepEqual([stream.chat_round, stream.response_type, stream.input_token], [2, undefined, undefined], "an SSE answer not enabled: the request's fields only");
});

test("a request body the charging plugins refuse goes on unchanged through ai-statistics, which never answers a request itself", async () => {
  const alone = fixture.track(await startGateway({
    clusters: { llm: { url: fixture.upstream.url } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm", cluster_name: CLUSTER }],
    plugins: [{ name: "ai-statistics", wasm: pluginWasm("ai-statistics"), config: {} }],
  }));
  const body = JSON.stringify({ model: "qwen-max", stream: true, messages: MESSAGES });
  const cases: Array<{ name: string; headers: Array<[string, string]>; bytes: Uint8Array }> = [
    { name: "gzip", headers: [["content-encoding", "gzip"]], bytes: gzipSync(body) },
    { name: "UTF-16", headers: [], bytes: Buffer.from("\ufeff" + body, "utf16le") },
    { name: "a stream flag upstreams read differently", headers: [], bytes: Buffer.from(body.replace('"stream":true', '"stream":"yes"')) },
  ];
  for (const c of cases) {
    const res = await request(`${alone.url}/v1/chat/completions`, { headers: [["content-type", "application/json"], ...c.headers], body: c.bytes });
    assert.equal(res.status, 200, `${c.name}: answered by the upstream`);
    const sent = fixture.upstream.requests.at(-1)!;
    assert.equal(Buffer.from(sent.body, "utf8").equals(Buffer.from(Buffer.from(c.bytes).toString("utf8"), "utf8")), true, `${c.name}: forwarded byte for byte`);
  }
  // In the chain, ai-quota (after ai-statistics) refuses what it cannot read, as without ai-statistics.
  const g = await chain();
  await fundAll();
  const refused = await request(`${g.url}/v1/chat/completions`, {
    headers: [["x-api-key", consumerOf("chat").credential], ["content-type", "application/json"], ["content-encoding", "gzip"]], body: gzipSync(body),
  });
  assert.equal(refused.status, 400);
});

test("refused configurations name the field; what Higress takes and this plugin does not implement says so", async () => {
  const cases: Array<[object, string]> = [
    [{ use_default_attributes: true }, "ai-statistics: use_default_attributes is not supported: "],
    [{ use_default_response_attributes: true }, "ai-statistics: use_default_response_attributes is not supported: "],
    [{ attributes: [{ key: "a", value_source: "fixed_value", value: "x", apply_to_span: true }] }, "ai-statistics: attributes[0].apply_to_span is not supported: "],
    [{ attributes: [{ key: "a", value_source: "fixed_value", value: "x", as_separate_log_field: true }] }, "ai-statistics: attributes[0].as_separate_log_field is not supported: "],
    [{ attributes: [{ key: "a", value_source: "fixed_value", value: "x", trace_span_key: "b" }] }, "ai-statistics: attributes[0].trace_span_key is not supported: "],
    [{ attributes: [{ key: "tool_calls", apply_to_log: true }] }, 'ai-statistics: attributes[0].key "tool_calls" as a built-in attribute is not supported: '],
    [{ attributes: [{ key: "a", value_source: "request_body", value: "messages.#.content", apply_to_log: true }] }, "ai-statistics: attributes[0].value uses # other than last"],
    [{ attributes: [{ key: "a", value_source: "response_body", value: "choices.*.text", apply_to_log: true }] }, "ai-statistics: attributes[0].value uses wildcards"],
    [{ attributes: [{ key: "a", value_source: "request_body", value: "messages|@reverse", apply_to_log: true }] }, "ai-statistics: attributes[0].value uses wildcards, queries or pipes"],
    [{ attributes: [{ key: "a", value_source: "request_body", value: "messages.@flatten", apply_to_log: true }] }, "ai-statistics: attributes[0].value uses the modifier @flatten"],
    [{ attributes: [{ key: "a", value_source: "cookie", value: "x" }] }, 'ai-statistics: attributes[0].value_source must be one of fixed_value, request_header, request_body, response_header, response_body, response_streaming_body, got "cookie"'],
    [{ attributes: [{ key: "a", value: "x" }] }, 'ai-statistics: attributes[0].value_source is required for key "a"'],
    [{ attributes: [{ key: "a", value_source: "request_header" }] }, "ai-statistics: attributes[0].value is required with value_source request_header"],
    [{ attributes: [{ value_source: "fixed_value", value: "x" }] }, "ai-statistics: attributes[0].key is required"],
    [{ attributes: [{ key: "a", value_source: "response_streaming_body", value: "x" }] }, "ai-statistics: attributes[0].rule is required with value_source response_streaming_body"],
    [{ attributes: [{ key: "a", value_source: "response_streaming_body", value: "x", rule: "last" }] }, 'ai-statistics: attributes[0].rule must be one of first, replace, append, got "last"'],
    [{ attributes: "all" }, 'ai-statistics: attributes must be a list, got "all"'],
    [{ value_length_limit: 0 }, "ai-statistics: value_length_limit must be between 1 and "],
    [{ enable_path_suffixes: "/v1" }, 'ai-statistics: enable_path_suffixes must be a list of strings, got "/v1"'],
  ];
  for (const [config, message] of cases) {
    const lines = await refusal("ai-statistics", config);
    assert.equal(lines.length, 1, JSON.stringify(config));
    assert.ok(lines[0].startsWith(message), `${lines[0]} starts with ${message}`);
  }
  await accepted("ai-statistics", {});
  await accepted("ai-statistics", { use_default_attributes: false, attributes: [{ key: "a", value_source: "fixed_value", value: "x", apply_to_span: false, apply_to_log: true }] });
});

test("a route named as Higress names an API (three or more @ parts) is labelled and logged by its API name; the consumer is none without X-Mse-Consumer", async () => {
  const route = "ai-route@openai-api@v1@chat";
  const g = fixture.track(await startGateway({
    clusters: { llm: { url: fixture.upstream.url } },
    routes: [{ name: route, prefix: "/", cluster: "llm", cluster_name: CLUSTER }],
    plugins: [{ name: "ai-statistics", wasm: pluginWasm("ai-statistics"), config: {} }],
  }));
  const res = await request(`${g.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body: JSON.stringify(FORMATS[0].body) });
  assert.equal(res.status, 200);
  const [log] = await aiLogs(g, 1);
  assert.equal(log.api, "ai-route@openai-api@v1");
  const at = `{ai_route="ai-route@openai-api@v1",ai_cluster="${CLUSTER}",ai_model="qwen-max",ai_consumer="none"}`;
  assert.equal((await scrape(g)).get(metric("TOTAL_TOKEN_METRIC") + at), JSON.parse(res.body).usage.total_tokens);
});
