import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { request } from "../support/net.ts";
import { probeWasm } from "../support/paths.ts";

const COMPLETION = 12;
let upstream: Upstream;

before(async () => {
  upstream = await startUpstream({ completionTokens: COMPLETION, chunkSize: 23 });
});
after(async () => {
  await upstream.close();
});

async function gatewayWith(options: { inject?: boolean; split?: number } = {}): Promise<Gateway> {
  return startGateway({
    clusters: { llm: { url: upstream.url } },
    routes: [{ name: "llm", prefix: "/", cluster: "llm" }],
    plugins: [{ name: "usage", wasm: probeWasm("usage"), config: { inject: options.inject ?? true } }],
    ...(options.split ? { split_response_body: { every: options.split } } : {}),
  });
}

function counters(gateway: Gateway): { input: number; output: number; responses: number } {
  const value = (name: string) => gateway.metrics().find((m) => m.name === `wasmcustom.usage.${name}`)?.value ?? 0;
  return { input: value("input_tokens"), output: value("output_tokens"), responses: value("responses") };
}

const MESSAGES = [{ role: "user" as const, content: "Who are you today?" }];
const PROMPT = 4;

test("a non-streaming chat through the openai client is read as prompt + completion tokens", async () => {
  const gateway = await gatewayWith();
  try {
    const client = new OpenAI({ apiKey: "sk-test", baseURL: `${gateway.url}/v1` });
    const completion = await client.chat.completions.create({ model: "qwen-max", messages: MESSAGES });
    assert.equal(completion.usage?.total_tokens, PROMPT + COMPLETION);
    assert.deepEqual(counters(gateway), { input: PROMPT, output: COMPLETION, responses: 1 });
    assert.equal(gateway.chain.failed(), false);
  } finally {
    await gateway.close();
  }
});

test("a stream sent without stream_options reaches the upstream with include_usage true and is charged", async () => {
  const gateway = await gatewayWith();
  try {
    const client = new OpenAI({ apiKey: "sk-test", baseURL: `${gateway.url}/v1` });
    const stream = await client.chat.completions.create({ model: "qwen-max", messages: MESSAGES, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.match(text, /^I am a test model/);
    const sent = JSON.parse(upstream.requests.at(-1)!.body);
    assert.deepEqual(sent.stream_options, { include_usage: true });
    assert.equal(upstream.requests.at(-1)!.headers["content-length"], String(Buffer.byteLength(upstream.requests.at(-1)!.body)));
    assert.deepEqual(counters(gateway), { input: PROMPT, output: COMPLETION, responses: 1 });
  } finally {
    await gateway.close();
  }
});

test("existing stream_options fields are kept when include_usage is added", async () => {
  const gateway = await gatewayWith();
  try {
    const body = JSON.stringify({ model: "m", stream: true, stream_options: { continuous_usage_stats: false }, messages: MESSAGES });
    const res = await request(`${gateway.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(upstream.requests.at(-1)!.body).stream_options, { include_usage: true, continuous_usage_stats: false });
  } finally {
    await gateway.close();
  }
});

test("with inject_stream_usage off the request is untouched and such a stream reports no usage", async () => {
  const gateway = await gatewayWith({ inject: false });
  try {
    const body = JSON.stringify({ model: "m", stream: true, messages: MESSAGES });
    const res = await request(`${gateway.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body });
    assert.equal(res.status, 200);
    assert.equal(upstream.requests.at(-1)!.body, body);
    assert.deepEqual(counters(gateway), { input: 0, output: 0, responses: 0 });
  } finally {
    await gateway.close();
  }
});

test("the same usage is read whatever the chunking of the response body", async () => {
  for (const split of [1, 2, 7, 64]) {
    const gateway = await gatewayWith({ split });
    try {
      const body = JSON.stringify({ model: "m", stream: true, messages: MESSAGES });
      await request(`${gateway.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body });
      await request(`${gateway.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body: JSON.stringify({ model: "m", messages: MESSAGES }) });
      assert.deepEqual(counters(gateway), { input: 2 * PROMPT, output: 2 * COMPLETION, responses: 2 }, `split every ${split} bytes`);
    } finally {
      await gateway.close();
    }
  }
});

test("Anthropic, Gemini (SSE and JSON array) and Responses API streams are read", async () => {
  const gateway = await gatewayWith({ split: 5 });
  try {
    const json = [["content-type", "application/json"]] as Array<[string, string]>;
    const cases: Array<[string, object]> = [
      ["/v1/messages", { model: "claude", stream: true, max_tokens: 64, messages: MESSAGES }],
      ["/v1beta/models/gemini:streamGenerateContent?alt=sse", { contents: [{ role: "user", parts: [{ text: "Who are you today?" }] }] }],
      ["/v1beta/models/gemini:streamGenerateContent", { contents: [{ role: "user", parts: [{ text: "Who are you today?" }] }] }],
      ["/v1/responses", { model: "gpt", stream: true, input: "Who are you today?" }],
    ];
    for (const [path, body] of cases) {
      const res = await request(`${gateway.url}${path}`, { headers: json, body: JSON.stringify(body) });
      assert.equal(res.status, 200, path);
    }
    assert.deepEqual(counters(gateway), { input: 4 * PROMPT, output: 4 * COMPLETION, responses: 4 });
  } finally {
    await gateway.close();
  }
});

test("a gzip-compressed response is passed through unread, as Higress", async () => {
  const gzip = await startUpstream({ encoding: "gzip" });
  const gateway = await startGateway({
    clusters: { llm: { url: gzip.url } },
    routes: [{ name: "llm", prefix: "/", cluster: "llm" }],
    plugins: [{ name: "usage", wasm: probeWasm("usage"), config: {} }],
  });
  try {
    const client = new OpenAI({ apiKey: "sk-test", baseURL: `${gateway.url}/v1` });
    const completion = await client.chat.completions.create({ model: "m", messages: MESSAGES });
    assert.equal(completion.usage?.completion_tokens, 12, "the client still gets the whole answer");
    assert.deepEqual(counters(gateway), { input: 0, output: 0, responses: 0 });
  } finally {
    await gateway.close();
    await gzip.close();
  }
});

test("on Envoy 1.27's buffered-body bug a split request body is forwarded intact, never corrupted", async () => {
  const { createHost, GET } = await import("../../host/direct.ts");
  const host = await createHost({ wasm: probeWasm("usage"), legacyBodyBuffering: true });
  const body = JSON.stringify({ model: "m", stream: true, messages: MESSAGES });
  const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["content-type", "application/json"]]), false);
  s.sendRequestBody(body.slice(0, 20)).sendRequestBody(body.slice(20), true);
  // The last chunk is invisible to the plugin there, so it cannot add include_usage; it must not break the body.
  assert.equal(s.upstreamBody(), body);
  const whole = await createHost({ wasm: probeWasm("usage") });
  const t = whole.newStream().sendRequestHeaders(GET("/v1/chat/completions", [["content-type", "application/json"]]), false);
  t.sendRequestBody(body.slice(0, 20)).sendRequestBody(body.slice(20), true);
  assert.deepEqual(JSON.parse(t.upstreamBody()).stream_options, { include_usage: true });
});
