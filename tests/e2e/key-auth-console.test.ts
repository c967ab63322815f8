/**
 * key-auth configured by the Higress console (issue 16). The console's KeyAuthCredentialHandler
 * (higress-console, backend/sdk) writes the global config with a placeholder `keys`, `global_auth:
 * false`, `allow: []` and, per consumer, its own `keys`, `in_header`, `in_query` and `credentials`
 * (a Bearer credential as "Bearer <token>" on `Authorization`); a route's auth (the Routes and AI
 * Routes pages) is a matchRule with `allow`, which Higress hands the plugin as a `_rules_` entry.
 * The JSON below is that output, replayed as is.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { request } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { e2eFixture } from "../support/e2e-fixture.ts";
import { NO_KEY, MULTI, INVALID, NOT_ALLOWED, consumerHeaders, assertDenied } from "../support/key-auth.ts";

const AI_ROUTE = "ai-route-qwen.internal";
const HEADER_KEY = "hdr-7c1e-0001";
const QUERY_KEYS = ["qry-4b2d-0001", "qry-4b2d-0002"];
const BEARER_TOKEN = "sk-9f3a-0001";

// saveConsumer for a HEADER, a QUERY and a BEARER credential, in that order.
const HEADER_CONSUMER = { name: "header-user", in_header: true, in_query: false, keys: ["X-API-KEY"], credentials: [HEADER_KEY] };
const QUERY_CONSUMER = { name: "query-user", in_header: false, in_query: true, keys: ["api_key"], credentials: QUERY_KEYS };
const BEARER_CONSUMER = { name: "bearer-user", in_header: true, in_query: false, keys: ["Authorization"], credentials: [`Bearer ${BEARER_TOKEN}`] };
const CONSUMERS = [HEADER_CONSUMER, QUERY_CONSUMER, BEARER_CONSUMER];
const NAMES = CONSUMERS.map((c) => c.name);

// initDefaultGlobalConfigs, then saveConsumer (which sets global_auth: false again).
const CONSOLE_GLOBAL = { global_auth: false, allow: [], keys: ["x-higress-dummy-key"], consumers: CONSUMERS };
/** The route's matchRule `{ingress: [AI_ROUTE], config: {allow}}` as the plugin receives it. */
const routeRule = (allow: string[]) => ({ _match_route_: [AI_ROUTE], allow });

const fixture = e2eFixture();

/** A gateway with the AI route and an `open` route, key-auth configured with `config`. */
async function gateway(config: object): Promise<Gateway> {
  const g = await startGateway({
    clusters: { llm: { url: fixture.upstream.url } },
    routes: [
      { name: AI_ROUTE, domains: ["*"], prefix: "/v1/", cluster: "llm" },
      { name: "open", domains: ["*"], prefix: "/", cluster: "llm" },
    ],
    plugins: [{ name: "key-auth", wasm: pluginWasm("key-auth"), config }],
  });
  return fixture.track(g);
}

/** Sends a request; returns the response and what the upstream saw (null when not forwarded). */
async function send(g: Gateway, path: string, headers: Array<[string, string]> = []) {
  const before = fixture.upstream.requests.length;
  const res = await request(`${g.url}${path}`, { headers });
  const forwarded = fixture.upstream.requests.length > before ? fixture.upstream.requests.at(-1)! : null;
  return { res, forwarded };
}

/** Each console consumer presenting its credential the way the console told it to. */
const PRESENTED: Array<[string, string, Array<[string, string]>]> = [
  ["header-user", "/v1/chat/completions", [["x-api-key", HEADER_KEY]]],
  ["query-user", `/v1/chat/completions?api_key=${QUERY_KEYS[0]}`, []],
  ["query-user", `/v1/chat/completions?api_key=${QUERY_KEYS[1]}`, []],
  ["bearer-user", "/v1/chat/completions", [["authorization", `Bearer ${BEARER_TOKEN}`]]],
];

async function assertEachAuthenticates(g: Gateway): Promise<void> {
  for (const [name, path, headers] of PRESENTED) {
    const { res, forwarded } = await send(g, path, [["x-mse-consumer", "spoofed"], ...headers]);
    assert.equal(res.status, 200, `${name}: ${res.body}`);
    assert.deepEqual(consumerHeaders(forwarded?.rawHeaders), [name], "exactly one X-Mse-Consumer, ours (K3)");
  }
}

test("the console's config: header, query and Bearer consumers authenticate on a route whose allow names them", async () => {
  const g = await gateway({ ...CONSOLE_GLOBAL, _rules_: [routeRule(NAMES)] });
  await assertEachAuthenticates(g);
  assertDenied((await send(g, "/v1/chat/completions")).res, 401, NO_KEY);
  assertDenied((await send(g, "/v1/chat/completions", [["x-api-key", "nope"]])).res, 401, INVALID);
  // global_auth: false, so a route without the console's auth passes untouched.
  const open = await send(g, "/health", [["x-mse-consumer", "someone"]]);
  assert.equal(open.res.status, 200);
  assert.deepEqual(consumerHeaders(open.forwarded?.rawHeaders), ["someone"]);
});

test("the console's allow list holds: a consumer it does not name gets 403, an empty one (auth on, nobody chosen) refuses everyone", async () => {
  const some = await gateway({ ...CONSOLE_GLOBAL, _rules_: [routeRule(["query-user"])] });
  assertDenied((await send(some, "/v1/x", [["x-api-key", HEADER_KEY]])).res, 403, NOT_ALLOWED);
  assert.equal((await send(some, `/v1/x?api_key=${QUERY_KEYS[0]}`)).res.status, 200);
  const nobody = await gateway({ ...CONSOLE_GLOBAL, _rules_: [routeRule([])] });
  for (const [, path, headers] of PRESENTED) assertDenied((await send(nobody, path, headers)).res, 403, NOT_ALLOWED);
  assertDenied((await send(nobody, "/v1/x")).res, 401, NO_KEY);
});

test("the console's consumers with global_auth turned on authenticate on every route", async () => {
  const g = await gateway({ ...CONSOLE_GLOBAL, global_auth: true });
  await assertEachAuthenticates(g);
  const other = await send(g, "/health", [["authorization", `Bearer ${BEARER_TOKEN}`]]);
  assert.deepEqual(consumerHeaders(other.forwarded?.rawHeaders), ["bearer-user"]);
  assertDenied((await send(g, "/health")).res, 401, NO_KEY);
});

test("the console's state before its first consumer configures: consumers: [] and a route that refuses everyone", async () => {
  const g = await gateway({ global_auth: false, allow: [], keys: ["x-higress-dummy-key"], consumers: [], _rules_: [routeRule([])] });
  // No consumer, so no source to read: every key is "no key".
  assertDenied((await send(g, "/v1/x", [["x-api-key", HEADER_KEY]])).res, 401, NO_KEY);
  assert.equal((await send(g, "/health")).res.status, 200);
});

test("a Bearer credential matches whatever the scheme's case and spacing, never without the scheme or in another header", async () => {
  const g = await gateway({ ...CONSOLE_GLOBAL, global_auth: true });
  for (const value of [`bearer ${BEARER_TOKEN}`, `BEARER  ${BEARER_TOKEN}`]) {
    const { res, forwarded } = await send(g, "/v1/x", [["authorization", value]]);
    assert.equal(res.status, 200, value);
    assert.deepEqual(consumerHeaders(forwarded?.rawHeaders), ["bearer-user"]);
  }
  assertDenied((await send(g, "/v1/x", [["authorization", BEARER_TOKEN]])).res, 401, INVALID);
  assertDenied((await send(g, "/v1/x", [["x-api-key", BEARER_TOKEN]])).res, 401, INVALID);
});

test("a consumer's key in a source only another consumer reads does not authenticate it", async () => {
  const g = await gateway({ ...CONSOLE_GLOBAL, global_auth: true });
  // header-user's key in the query, query-user's in the header, the Bearer token as a query parameter.
  assertDenied((await send(g, `/v1/x?api_key=${HEADER_KEY}`)).res, 401, INVALID);
  assertDenied((await send(g, "/v1/x", [["x-api-key", QUERY_KEYS[0]]])).res, 401, INVALID);
  assertDenied((await send(g, "/v1/x", [["authorization", QUERY_KEYS[0]]])).res, 401, INVALID);
  // A source no consumer reads is no key at all.
  assertDenied((await send(g, `/v1/x?x-api-key=${HEADER_KEY}&Authorization=Bearer+${BEARER_TOKEN}`)).res, 401, NO_KEY);
  assertDenied((await send(g, "/v1/x", [["api_key", QUERY_KEYS[0]]])).res, 401, NO_KEY);
});

test("per-consumer keys, in_header and in_query each fall back to the global one", async () => {
  const g = await gateway({
    global_auth: true, keys: ["x-token"], in_query: true,
    consumers: [
      { name: "all-global", credentials: ["c-global"] },
      { name: "own-keys", keys: ["x-own"], credentials: ["c-own-keys"] },
      { name: "own-flags", in_header: true, in_query: false, credentials: ["c-own-flags"] },
    ],
  });
  const as = async (path: string, headers: Array<[string, string]> = []) => {
    const { res, forwarded } = await send(g, path, headers);
    return res.status === 200 ? consumerHeaders(forwarded?.rawHeaders)[0] : res.status;
  };
  assert.equal(await as("/v1/x?x-token=c-global"), "all-global");
  assert.equal(await as("/v1/x", [["x-token", "c-global"]]), 401, "the global config reads the query only");
  assert.equal(await as("/v1/x?x-own=c-own-keys"), "own-keys", "own keys, the global in_query");
  assert.equal(await as("/v1/x?x-token=c-own-keys"), 401);
  assert.equal(await as("/v1/x", [["x-token", "c-own-flags"]]), "own-flags", "the global keys, its own in_header");
  assert.equal(await as("/v1/x?x-token=c-own-flags"), 401, "its in_query: false wins over the global true");
});

test("a request carrying several consumers' credentials is the first of them in config order", async () => {
  const both: Array<[string, string]> = [["x-api-key", HEADER_KEY], ["authorization", `Bearer ${BEARER_TOKEN}`]];
  const headerFirst = await gateway({ ...CONSOLE_GLOBAL, global_auth: true });
  const a = await send(headerFirst, `/v1/x?api_key=${QUERY_KEYS[0]}`, [["x-mse-consumer", "spoofed"], ...both]);
  assert.deepEqual(consumerHeaders(a.forwarded?.rawHeaders), ["header-user"]);
  const bearerFirst = await gateway({ ...CONSOLE_GLOBAL, global_auth: true, consumers: [BEARER_CONSUMER, QUERY_CONSUMER, HEADER_CONSUMER] });
  const b = await send(bearerFirst, `/v1/x?api_key=${QUERY_KEYS[0]}`, [["x-mse-consumer", "spoofed"], ...both]);
  assert.deepEqual(consumerHeaders(b.forwarded?.rawHeaders), ["bearer-user"]);
  // An invalid value in one consumer's source does not hide a valid one in another's.
  const c = await send(bearerFirst, "/v1/x", [["x-api-key", HEADER_KEY], ["authorization", "Bearer nope"]]);
  assert.deepEqual(consumerHeaders(c.forwarded?.rawHeaders), ["header-user"]);
});

test("two values in one consumer's sources are several keys (K2), also with other consumers configured", async () => {
  const g = await gateway({ ...CONSOLE_GLOBAL, global_auth: true });
  assertDenied((await send(g, "/v1/x", [["x-api-key", HEADER_KEY], ["x-api-key", HEADER_KEY]])).res, 401, MULTI);
  assertDenied((await send(g, `/v1/x?api_key=${QUERY_KEYS[0]}&api_key=${QUERY_KEYS[1]}`)).res, 401, MULTI);
});

test("hide_credentials removes the credential each consumer used, from its own source only", async () => {
  const g = await gateway({ ...CONSOLE_GLOBAL, global_auth: true, hide_credentials: true });
  const header = await send(g, "/v1/x?api_key=other", [["x-api-key", HEADER_KEY]]);
  assert.equal(header.res.status, 200);
  assert.equal(header.forwarded?.headers["x-api-key"], undefined);
  assert.equal(header.forwarded?.path, "/v1/x?api_key=other", "the query, which header-user does not read, is left");
  const query = await send(g, `/v1/x?a=1&api_key=${QUERY_KEYS[1]}`, [["x-api-key", "other"]]);
  assert.equal(query.res.status, 200);
  assert.equal(query.forwarded?.path, "/v1/x?a=1");
  assert.equal(query.forwarded?.headers["x-api-key"], "other");
  const bearer = await send(g, "/v1/x", [["authorization", `Bearer ${BEARER_TOKEN}`]]);
  assert.equal(bearer.res.status, 200);
  assert.equal(bearer.forwarded?.headers["authorization"], undefined);
});
