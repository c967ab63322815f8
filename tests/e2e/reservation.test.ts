/**
 * Issue 19: strict budgets under concurrency. With reserve_tokens, the check of each AI plugin is
 * one EVAL that reserves what a request may use (its body / bytes_per_token plus max_tokens, or
 * reserve_output_tokens, times n) and refuses what does not fit; the end of the stream settles the
 * difference. Through key-auth and both plugins with a real redis-server: concurrent chats stay
 * within the budget, every ending settles exactly once, and the keys stay Higress's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, promptTokensOf, type Upstream, type UpstreamOptions } from "../support/upstream.ts";
import { monitorRedis } from "../support/redis.ts";
import { redisFixture } from "../support/e2e-fixture.ts";
import { request, waitFor } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { quotaMetric, ratelimitMetric } from "../support/metric-names.ts";
import { sourceConstant, sourceReply } from "../support/source-constants.ts";

const USER = "user1-key-0002";
const CONSUMER = "aliyun-user1";
const QUOTA_KEY = `chat_quota:${CONSUMER}`;
const LIMIT_KEY = `higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:${USER}`;
const SECOND_KEY = `higress-token-ratelimit:default_rule:limit_by_per_header:1:x-api-key:${USER}`;
const COMPLETION = 12;
const BYTES_PER_TOKEN = 4;
const REDIS = { service_name: "local-redis.static", service_port: 80, timeout: 3000 };
const HEADERS: Array<[string, string]> = [["x-api-key", USER], ["content-type", "application/json"]];
const BIG = 1_000_000;
const NO_QUOTA = sourceReply("plugins/ai-quota/errors.ts", "NO_QUOTA").body;
const UNDECIDABLE_LIMIT = sourceReply("shared/usage/refusal.ts", "UNDECIDABLE_LIMIT");

const fixture = redisFixture();

async function upstreamWith(options: UpstreamOptions = {}): Promise<Upstream> {
  const upstream = await startUpstream({ completionTokens: COMPLETION, ...options });
  fixture.onClose(() => upstream.close());
  return upstream;
}

interface Setup {
  /** Fields for both AI plugins' configs (reserve_tokens: true unless given). */
  usage?: object;
  /** Rate-limit windows of the one rule item; no ai-token-ratelimit when null. */
  limits?: Record<string, number> | null;
  /** No ai-quota when false. */
  quota?: boolean;
  ratelimit?: object;
}

/** key-auth, then ai-quota and ai-token-ratelimit in Higress's order, in front of `upstream`. */
async function gateway(upstream: Upstream, setup: Setup = {}): Promise<Gateway> {
  const usage = { reserve_tokens: true, ...setup.usage };
  const limits = setup.limits === undefined ? { token_per_minute: BIG } : setup.limits;
  const plugins: object[] = [
    { name: "key-auth", wasm: pluginWasm("key-auth"), config: { keys: ["x-api-key"], in_header: true, consumers: [{ name: CONSUMER, credential: USER }] } },
  ];
  if (setup.quota !== false) plugins.push({ name: "ai-quota", wasm: pluginWasm("ai-quota"), config: { admin_consumer: "aliyun-admin", redis: REDIS, ...usage } });
  if (limits !== null) {
    plugins.push({
      name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"),
      config: { rule_name: "default_rule", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", ...limits }] }], redis: REDIS, ...usage, ...setup.ratelimit },
    });
  }
  const g = await startGateway({
    clusters: { llm: { url: upstream.url }, "outbound|80||local-redis.static": { redis: `127.0.0.1:${fixture.redis.port}` } },
    routes: [{ name: "aliyun", prefix: "/", cluster: "llm" }],
    plugins,
  });
  return fixture.track(g);
}

function chatBody(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }], ...fields });
}

/** What a request reserves: its body's bytes / 4, rounded up, plus its output limit. */
function reservationOf(body: string, output: number): number {
  return Math.ceil(Buffer.byteLength(body) / BYTES_PER_TOKEN) + output;
}

const usageOf = (body: string) => promptTokensOf(body) + COMPLETION;

async function chat(g: Gateway, body: string) {
  return request(`${g.url}/v1/chat/completions`, { headers: HEADERS, body });
}

async function quotaLeft(): Promise<number> {
  return Number(await fixture.redis.client.get(QUOTA_KEY));
}

async function counter(key = LIMIT_KEY): Promise<number | null> {
  const value = await fixture.redis.client.get(key);
  return value === null ? null : Number(value);
}

/** Waits until `read` gives `expected`, else fails showing what it gave. */
async function settlesTo<T>(read: () => Promise<T>, expected: T, message?: string): Promise<void> {
  await waitFor(async () => JSON.stringify(await read()) === JSON.stringify(expected), 3000).catch(async () => assert.deepEqual(await read(), expected, message));
}

/** Both plugins' budgets: quota spent (from `start`) and the minute counter. */
async function spent(start: number): Promise<{ quota: number; limit: number }> {
  return { quota: start - (await quotaLeft()), limit: (await counter()) ?? 0 };
}

/** The sum of a metric over its labels. */
function metricTotal(g: Gateway, name: string): number {
  return g.metrics().filter((m) => m.name.endsWith(`.metric.${name}`)).reduce((sum, m) => sum + m.value, 0);
}

/** Posts `body` and leaves it open: the caller hangs up with the returned function. */
function openChat(g: Gateway, body: string): () => void {
  const req = http.request(`${g.url}/v1/chat/completions`, { method: "POST", headers: Object.fromEntries(HEADERS), agent: false }, (res) => res.resume());
  req.on("error", () => undefined);
  req.end(body);
  return () => req.destroy();
}

/** Hangs up a chat of openChat whose `reserved` tokens are held, and waits for both plugins to settle them (to the estimate). */
async function hangUpAndSettle(hangUp: () => void, reserved: number): Promise<void> {
  hangUp();
  await waitFor(async () => {
    const now = await spent(1000);
    return now.quota !== reserved && now.limit !== reserved;
  }, 3000);
}

/** Posts `body` and hangs up when `when` says so (given the answer so far), or after `afterMs` without any answer. */
function chatAndHangUp(g: Gateway, body: string, options: { until?: string; afterMs?: number }): Promise<void> {
  return new Promise((resolve) => {
    let received = "";
    const req = http.request(`${g.url}/v1/chat/completions`, { method: "POST", headers: Object.fromEntries(HEADERS), agent: false }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        received += chunk;
        if (options.until !== undefined && received.includes(options.until)) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on("error", () => undefined);
    if (options.afterMs !== undefined) {
      setTimeout(() => {
        req.destroy();
        resolve();
      }, options.afterMs);
    }
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// Concurrency: the reason for the option.

test("200 concurrent chats against one quota: without reserve_tokens all are served far past it; with it, what is served fits the quota and the quota ends at exactly the usage told", async () => {
  // Answers take about 2 s, so that without reservations the checks of all 200 come before the first charge.
  const upstream = await upstreamWith({ chunkDelayMs: 300, chunkSize: 64 });
  const body = chatBody({ max_tokens: COMPLETION });
  const quota = 10 * reservationOf(body, COMPLETION);
  const run = async (g: Gateway) => {
    await fixture.redis.client.set(QUOTA_KEY, quota);
    const answers = await Promise.all(Array.from({ length: 200 }, () => chat(g, body)));
    const served = answers.filter((a) => a.status === 200);
    const told = served.reduce((sum, a) => sum + JSON.parse(a.body).usage.total_tokens, 0);
    return { served: served.length, told, refused: answers.filter((a) => a.status === 403 && a.body === NO_QUOTA).length };
  };
  const loose = await run(await gateway(upstream, { usage: { reserve_tokens: false }, limits: null }));
  assert.ok(loose.told > 2 * quota, `Higress's check-then-charge serves concurrent chats far past the quota (${loose.served} chats, ${loose.told} tokens for ${quota})`);
  await settlesTo(quotaLeft, quota - loose.told, "and the quota ends below zero");

  const strict = await run(await gateway(upstream, { limits: null }));
  assert.ok(strict.served >= 10, `at least the ten that fit at once were served (${strict.served})`);
  assert.equal(strict.served + strict.refused, 200, "the rest were refused 403 No quota left");
  assert.ok(strict.told <= quota, `served ${strict.told} tokens within a quota of ${quota}`);
  await settlesTo(quotaLeft, quota - strict.told, "every reservation settled to the usage told");
});

test("200 concurrent chats against one window: with reserve_tokens what is served fits the limit, and the counter ends at the usage told", async () => {
  const upstream = await upstreamWith({ chunkDelayMs: 20, chunkSize: 64 });
  const body = chatBody({ max_tokens: COMPLETION });
  const limit = 5 * reservationOf(body, COMPLETION);
  const g = await gateway(upstream, { quota: false, limits: { token_per_minute: limit } });
  const answers = await Promise.all(Array.from({ length: 200 }, () => chat(g, body)));
  const served = answers.filter((a) => a.status === 200);
  const told = served.reduce((sum, a) => sum + JSON.parse(a.body).usage.total_tokens, 0);
  assert.ok(served.length >= 5, `${served.length} served`);
  assert.equal(answers.filter((a) => a.status === 429).length, 200 - served.length);
  assert.ok(told <= limit, `served ${told} tokens within a limit of ${limit}`);
  await settlesTo(() => counter(), told);
});

test("a request larger than a whole window is served alone into an empty window, and refused while anything else is in it (the walkthrough's 5 tokens per minute)", async () => {
  const upstream = await upstreamWith({ chunkDelayMs: 20, chunkSize: 64 });
  const g = await gateway(upstream, { quota: false, limits: { token_per_minute: 5 } });
  const body = chatBody();
  const answers = await Promise.all(Array.from({ length: 50 }, () => chat(g, body)));
  assert.equal(answers.filter((a) => a.status === 200).length, 1, "exactly one");
  assert.equal(answers.filter((a) => a.status === 429).length, 49);
  await settlesTo(() => counter(), usageOf(body));
  assert.equal((await chat(g, body)).status, 429, "the window is no longer empty");
});

// ---------------------------------------------------------------------------------------------
// What is reserved, and what Higress sees meanwhile.

test("in flight, both counters hold the reservation where Higress's checks read them; at the end, the usage", async () => {
  const upstream = await upstreamWith({ stallAt: '"usage"' });
  const g = await gateway(upstream);
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const body = chatBody({ max_tokens: 40, n: 2 });
  const hangUp = openChat(g, body);
  const reserved = reservationOf(body, 80);
  await settlesTo(() => spent(1000), { quota: reserved, limit: reserved }, "prompt estimate plus max_tokens for each of n choices");
  assert.ok((await fixture.redis.client.ttl(LIMIT_KEY)) > 0, "the window's TTL is set by the reservation, bounding it if no settle ever comes");
  await hangUpAndSettle(hangUp, reserved);
});

test("a request without max_tokens reserves reserve_output_tokens (256 by default, or as configured); max_completion_tokens and max_output_tokens count too", async () => {
  const upstream = await upstreamWith({ stallAt: '"usage"' });
  assert.equal(Number(sourceConstant("shared/usage/options.ts", "DEFAULT_RESERVE_OUTPUT_TOKENS")), 256);
  const cases: Array<[object, Record<string, unknown>, number]> = [
    [{}, {}, 256],
    [{ reserve_output_tokens: 30 }, {}, 30],
    [{}, { max_completion_tokens: 70 }, 70],
    [{}, { max_output_tokens: 90, max_tokens: 10 }, 90],
  ];
  for (const [usage, fields, output] of cases) {
    await fixture.redis.flush();
    await fixture.redis.client.set(QUOTA_KEY, 1000);
    const g = await gateway(upstream, { usage });
    const body = chatBody(fields);
    const hangUp = openChat(g, body);
    await settlesTo(() => spent(1000), { quota: reservationOf(body, output), limit: reservationOf(body, output) }, JSON.stringify([usage, fields]));
    await hangUpAndSettle(hangUp, reservationOf(body, output));
    await g.close();
  }
});

test("a reservation that does not fit is refused, against counters preset as Higress writes them; remaining headers are net of reservations", async () => {
  const upstream = await upstreamWith();
  const body = chatBody({ max_tokens: COMPLETION });
  const reserved = reservationOf(body, COMPLETION);
  const g = await gateway(upstream, { limits: { token_per_minute: 1000 }, ratelimit: { show_limit_quota_header: true } });

  await fixture.redis.client.set(QUOTA_KEY, reserved - 1);
  const short = await chat(g, body);
  assert.equal(short.status, 403);
  assert.equal(short.body, NO_QUOTA);
  assert.equal(await quotaLeft(), reserved - 1, "nothing taken from a quota it does not fit");

  await fixture.redis.client.set(QUOTA_KEY, 10_000);
  await fixture.redis.client.command("set", LIMIT_KEY, 1000 - reserved + 1, "ex", 40);
  const over = await chat(g, body);
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers["retry-after"]) > 0 && Number(over.headers["retry-after"]) <= 40, `Retry-After ${over.headers["retry-after"]}`);
  assert.equal(await counter(), 1000 - reserved + 1);
  await settlesTo(quotaLeft, 10_000, "ai-quota's reservation was given back when ai-token-ratelimit refused");

  await fixture.redis.client.command("set", LIMIT_KEY, 1000 - reserved, "ex", 40);
  const fits = await chat(g, body);
  assert.equal(fits.status, 200);
  assert.equal(fits.headers["x-tokenratelimit-remaining"], "0", "what is left after this request's reservation");
  await settlesTo(() => counter(), 1000 - reserved + usageOf(body));
  await settlesTo(quotaLeft, 10_000 - usageOf(body));
});

// ---------------------------------------------------------------------------------------------
// Every ending settles exactly once.

/** The same request through a gateway without reservations: what the stream is charged there. */
async function chargedWithout(upstream: Upstream, send: (g: Gateway) => Promise<unknown>, usage: object = {}): Promise<{ quota: number; limit: number }> {
  await fixture.redis.flush();
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const g = await gateway(upstream, { usage: { ...usage, reserve_tokens: false } });
  await send(g);
  await new Promise((r) => setTimeout(r, 300));
  const charged = await spent(1000);
  await g.close();
  await fixture.redis.flush();
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  return charged;
}

test("usage read: the settle adds the difference, and nothing more comes later", async () => {
  const upstream = await upstreamWith();
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const g = await gateway(upstream);
  const monitor = await monitorRedis(fixture.redis);
  const body = chatBody({ max_tokens: 100 });
  const answer = await chat(g, body);
  assert.equal(answer.status, 200);
  const told = JSON.parse(answer.body).usage.total_tokens;
  await new Promise((r) => setTimeout(r, 300));
  monitor.stop();
  assert.deepEqual(monitor.commands().sort(), ["decrby", "eval", "eval", "eval"], "1 check + 1 settle per plugin: ai-quota EVAL + DECRBY, ai-token-ratelimit EVAL + EVAL");
  assert.deepEqual(await spent(1000), { quota: told, limit: told }, "settled to the usage told, exactly once");
});

test("usage missing: the stream is charged what it is charged without a reservation (the estimate), or the reservation when estimates are off", async () => {
  const upstream = await upstreamWith({ noUsage: true });
  const body = chatBody({ max_tokens: 100 });
  const streamBody = chatBody({ max_tokens: 100, stream: true });
  for (const b of [body, streamBody]) {
    const expected = await chargedWithout(upstream, (g) => chat(g, b));
    assert.ok(expected.quota > 0);
    const g = await gateway(upstream);
    assert.equal((await chat(g, b)).status, 200);
    await settlesTo(() => spent(1000), expected, b);
    assert.equal(metricTotal(g, quotaMetric("ESTIMATED_TOKEN_METRIC")), expected.quota);
    await g.close();
  }
  await fixture.redis.flush();
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const off = await gateway(upstream, { usage: { estimate_missing_usage: false } });
  assert.equal((await chat(off, body)).status, 200);
  const reserved = reservationOf(body, 100);
  await settlesTo(() => spent(1000), { quota: reserved, limit: reserved }, "the reservation stays: nothing served is free");
  assert.equal(metricTotal(off, ratelimitMetric("ESTIMATED_TOKEN_METRIC")), reserved, "counted as an estimate");
});

test("client hang-up mid-stream and upstream reset: charged as without a reservation", async () => {
  const body = chatBody({ max_tokens: 100, stream: true });
  const stalling = await upstreamWith({ stallAt: "data: [DONE]" });
  const hangUp = (g: Gateway) => chatAndHangUp(g, body, { until: '"usage"' });
  const expected = await chargedWithout(stalling, hangUp);
  assert.ok(expected.quota > 0);
  const g = await gateway(stalling);
  await hangUp(g);
  await settlesTo(() => spent(1000), expected, "hang-up after the usage event");

  const resetting = await upstreamWith({ resetAfterBytes: 300 });
  const send = (gw: Gateway) => chat(gw, body).catch(() => undefined);
  const whenReset = await chargedWithout(resetting, send);
  assert.ok(whenReset.quota > 0);
  const g2 = await gateway(resetting);
  await send(g2);
  await settlesTo(() => spent(1000), whenReset, "upstream reset");
});

test("nothing served: an upstream error and a later plugin's local reply give the whole reservation back", async () => {
  const failing = await upstreamWith({ errorStatus: 500 });
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const g = await gateway(failing);
  assert.equal((await chat(g, chatBody({ max_tokens: 50 }))).status, 500);
  await settlesTo(() => spent(1000), { quota: 0, limit: 0 });

  const upstream = await upstreamWith();
  const limited = await gateway(upstream, { limits: { token_per_minute: 10 } });
  await fixture.redis.client.command("set", LIMIT_KEY, 11, "ex", 60);
  assert.equal((await chat(limited, chatBody({ max_tokens: 50 }))).status, 429);
  await settlesTo(quotaLeft, 1000, "ai-quota reserved, ai-token-ratelimit answered 429: all given back");
});

test("a client gone while its reservation is out: the reservation is given back when the reply comes", async () => {
  const upstream = await upstreamWith();
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const g = await gateway(upstream);
  // Redis holds every command for 600 ms: the reservations wait, the client hangs up meanwhile.
  await fixture.redis.client.command("client", "pause", 600, "all");
  await chatAndHangUp(g, chatBody({ max_tokens: 50 }), { afterMs: 150 });
  await new Promise((r) => setTimeout(r, 700));
  await settlesTo(() => spent(1000), { quota: 0, limit: 0 });
  assert.equal(upstream.requests.length, 0, "never forwarded");
});

test("Redis failing at the settle: logged and counted, never retried; the reservation stays, bounded by the window's TTL", async () => {
  const upstream = await upstreamWith({ chunkDelayMs: 100, chunkSize: 64 });
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const g = await gateway(upstream);
  const body = chatBody({ max_tokens: 100 });
  const answer = chat(g, body);
  const reserved = reservationOf(body, 100);
  await settlesTo(() => spent(1000), { quota: reserved, limit: reserved });
  const monitor = await monitorRedis(fixture.redis);
  // Values the settles cannot add to: a string at both keys, the window's TTL kept.
  await fixture.redis.client.set(QUOTA_KEY, "spoilt");
  await fixture.redis.client.command("set", LIMIT_KEY, "spoilt", "keepttl");
  assert.equal((await answer).status, 200);
  await waitFor(() => metricTotal(g, quotaMetric("CHARGE_FAILURE_METRIC")) === 1 && metricTotal(g, ratelimitMetric("CHARGE_FAILURE_METRIC")) === 1, 3000);
  await new Promise((r) => setTimeout(r, 300));
  monitor.stop();
  assert.deepEqual(monitor.commands().filter((c) => c !== "set").sort(), ["decrby", "eval"], "one settle each, not retried");
  assert.ok(g.logs().some((l) => /ai-quota: charge failed/.test(l.message)));
  assert.ok(g.logs().some((l) => /ai-token-ratelimit: charge failed/.test(l.message)));
  const ttl = await fixture.redis.client.ttl(LIMIT_KEY);
  assert.ok(ttl > 0 && ttl <= 60, `the counter expires with its window (${ttl} s)`);
});

test("a window that ended before the settle: nothing is given back to the next window, and tokens used beyond the reservation go into it", async () => {
  const upstream = await upstreamWith({ chunkDelayMs: 500, chunkSize: 100, completionTokens: 80 });
  const g = await gateway(upstream, { quota: false, limits: { token_per_second: BIG } });
  const over = chatBody({ max_tokens: 0 });
  const answer = await chat(g, over);
  assert.equal(answer.status, 200);
  const beyond = JSON.parse(answer.body).usage.total_tokens - reservationOf(over, 0);
  assert.ok(beyond > 0, `${beyond} tokens beyond the reservation`);
  await settlesTo(() => counter(SECOND_KEY), beyond, "the tokens beyond the reservation, in the current window");

  await fixture.redis.flush();
  const under = chatBody({ max_tokens: 500 });
  const answer2 = chat(g, under);
  // The reservation's window ends after 1 s; the next one is opened meanwhile, as another gateway would.
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(await counter(SECOND_KEY), null, "the reservation's window has ended");
  await fixture.redis.client.command("set", SECOND_KEY, 7, "ex", 5);
  assert.equal((await answer2).status, 200);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await counter(SECOND_KEY), 7, "nothing given back to a window that never held the reservation");
});

// ---------------------------------------------------------------------------------------------
// Bodies and configs.

test("with reserve_tokens, an output limit upstreams may read differently is refused 400; without, it passes", async () => {
  const upstream = await upstreamWith();
  await fixture.redis.client.set(QUOTA_KEY, 1000);
  const strict = await gateway(upstream);
  for (const body of ['{"model":"m","max_tokens":1,"MAX_TOKENS":100000}', '{"model":"m","max_tokens":"5"}', '{"model":"m","n":2.0}']) {
    const answer = await chat(strict, body);
    assert.equal(answer.status, 400, body);
    assert.deepEqual({ status: answer.status, body: answer.body }, UNDECIDABLE_LIMIT, body);
  }
  assert.equal(upstream.requests.length, 0);
  const loose = await gateway(upstream, { usage: { reserve_tokens: false } });
  assert.equal((await chat(loose, '{"model":"m","max_tokens":1,"MAX_TOKENS":100000}')).status, 200);
});
