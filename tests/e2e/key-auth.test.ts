import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startGateway, type Gateway } from "../../host/gateway.ts";
import { startUpstream, type Upstream } from "../support/upstream.ts";
import { request } from "../support/net.ts";
import { pluginWasm } from "../support/paths.ts";
import { createHost } from "../../host/direct.ts";
import { readModule } from "../../host/wasm-binary.ts";
import { NO_KEY, MULTI, INVALID, NOT_ALLOWED, consumerHeaders, assertDenied } from "../support/key-auth.ts";

const ADMIN = "admin-key-0001";
const USER1 = "user1-key-0002";
const USER2 = "user2-key-0003";
const USER2_SECOND = "user2-key-0004";

const CONSUMERS = [
  { name: "aliyun-admin", credential: ADMIN },
  { name: "aliyun-user1", credential: USER1 },
  { name: "aliyun-user2", credentials: [USER2, USER2_SECOND] },
];

let upstream: Upstream;
const gateways: Gateway[] = [];

before(async () => {
  upstream = await startUpstream();
});
after(async () => {
  for (const g of gateways) {
    assert.equal(g.chain.failed(), false, "the VM never trapped");
    assert.deepEqual(g.logs().filter((l) => l.level >= 4), [], "no error logs");
    await g.close();
  }
  await upstream.close();
});

/** A gateway with routes `aliyun` (host *.aliyun.test) and `open` running key-auth with `config`. */
async function gateway(config: object): Promise<Gateway> {
  const g = await startGateway({
    clusters: { llm: { url: upstream.url } },
    routes: [
      { name: "aliyun", domains: ["*.aliyun.test"], prefix: "/", cluster: "llm", cluster_name: "outbound|443||qwen.dns" },
      { name: "open", domains: ["*"], prefix: "/", cluster: "llm" },
    ],
    plugins: [{ name: "key-auth", wasm: pluginWasm("key-auth"), config }],
  });
  gateways.push(g);
  return g;
}

/** Sends a request and returns the response with what the upstream saw (null when not forwarded). */
async function send(g: Gateway, path: string, headers: Array<[string, string]> = [], host = "api.aliyun.test") {
  const before = upstream.requests.length;
  const res = await request(`${g.url}${path}`, { headers: [["host", host], ...headers] });
  const forwarded = upstream.requests.length > before ? upstream.requests.at(-1)! : null;
  return { res, forwarded };
}

const WALKTHROUGH = { keys: ["x-api-key"], in_header: true, consumers: CONSUMERS };

test("the walkthrough's consumers authenticate with x-api-key and reach the upstream as themselves", async () => {
  const g = await gateway(WALKTHROUGH);
  for (const [key, name] of [[ADMIN, "aliyun-admin"], [USER1, "aliyun-user1"], [USER2, "aliyun-user2"], [USER2_SECOND, "aliyun-user2"]]) {
    const { res, forwarded } = await send(g, "/v1/chat/completions", [["x-api-key", key]]);
    assert.equal(res.status, 200);
    assert.deepEqual(consumerHeaders(forwarded?.rawHeaders), [name]);
  }
});

test("a request without a key gets 401 with WWW-Authenticate and is not forwarded", async () => {
  const g = await gateway(WALKTHROUGH);
  const { res, forwarded } = await send(g, "/v1/chat/completions");
  assertDenied(res, 401, NO_KEY);
  assert.equal(forwarded, null);
});

test("an unknown key gets 401, not Higress's 403 (K1)", async () => {
  const g = await gateway(WALKTHROUGH);
  const { res, forwarded } = await send(g, "/", [["x-api-key", "nope"]]);
  assertDenied(res, 401, INVALID);
  assert.equal(forwarded, null);
});

test("two keys are 401 multi: the same header twice, the same query parameter twice, header plus query (K2)", async () => {
  const g = await gateway({ keys: ["x-api-key", "apikey"], in_header: true, in_query: true, consumers: CONSUMERS });
  assertDenied((await send(g, "/", [["x-api-key", USER1], ["x-api-key", USER1]])).res, 401, MULTI);
  assertDenied((await send(g, `/?apikey=${USER1}&apikey=${USER1}`)).res, 401, MULTI);
  assertDenied((await send(g, `/?apikey=${USER1}`, [["x-api-key", USER1]])).res, 401, MULTI);
});

test("query keys are read when in_query is true (K2), names are case-sensitive and form-decoded", async () => {
  const g = await gateway({ keys: ["apikey"], in_query: true, consumers: [{ name: "c", credential: "a b+c" }] });
  const ok = await send(g, "/x?apikey=a+b%2Bc");
  assert.equal(ok.res.status, 200);
  assert.deepEqual(consumerHeaders(ok.forwarded?.rawHeaders), ["c"]);
  assertDenied((await send(g, "/x?APIKEY=a+b%2Bc")).res, 401, NO_KEY);
});

test("header key names are case-insensitive, in the request and in the config", async () => {
  const g = await gateway(WALKTHROUGH);
  assert.equal((await send(g, "/", [["X-API-KEY", USER1]])).res.status, 200);
  const upper = await gateway({ ...WALKTHROUGH, keys: ["X-Api-Key"] });
  assert.equal((await send(upper, "/", [["x-api-key", USER1]])).res.status, 200);
});

test("an empty ?apikey= counts as a key and is invalid", async () => {
  const g = await gateway({ keys: ["apikey"], in_query: true, consumers: CONSUMERS });
  assertDenied((await send(g, "/?apikey=")).res, 401, INVALID);
});

test("a malformed percent-escape never skips authentication (K7)", async () => {
  const g = await gateway({ keys: ["apikey"], in_query: true, consumers: CONSUMERS });
  // Higress panics on a bad escape in the path and lets the request through unauthenticated.
  assertDenied((await send(g, "/a%zz")).res, 401, NO_KEY);
  assertDenied((await send(g, "/a%zz?apikey=%zz")).res, 401, NO_KEY);
  const valid = await send(g, `/a%zz?apikey=${USER1}`);
  assert.equal(valid.res.status, 200);
  assert.deepEqual(consumerHeaders(valid.forwarded?.rawHeaders), ["aliyun-user1"]);
});

test("a client-sent X-Mse-Consumer is replaced by exactly one, ours (K3)", async () => {
  const g = await gateway(WALKTHROUGH);
  const { res, forwarded } = await send(g, "/", [["x-mse-consumer", "aliyun-admin"], ["x-api-key", USER1], ["X-Mse-Consumer", "other"]]);
  assert.equal(res.status, 200);
  assert.deepEqual(consumerHeaders(forwarded?.rawHeaders), ["aliyun-user1"]);
});

test("on a pass-through route a client X-Mse-Consumer is left alone (K3, README)", async () => {
  const g = await gateway({ ...WALKTHROUGH, global_auth: false, _rules_: [{ _match_route_: ["aliyun"], allow: ["aliyun-user1"] }] });
  const { res, forwarded } = await send(g, "/", [["x-mse-consumer", "someone"]], "open.test");
  assert.equal(res.status, 200);
  assert.deepEqual(consumerHeaders(forwarded?.rawHeaders), ["someone"]);
});

test("Authorization: Bearer <token> matches the credential <token> (K5)", async () => {
  const g = await gateway({ keys: ["authorization"], in_header: true, consumers: CONSUMERS });
  const { res, forwarded } = await send(g, "/", [["authorization", `Bearer ${USER1}`]]);
  assert.equal(res.status, 200);
  assert.deepEqual(consumerHeaders(forwarded?.rawHeaders), ["aliyun-user1"]);
  assertDenied((await send(g, "/", [["authorization", "Bearer nope"]])).res, 401, INVALID);
});

test("hide_credentials removes the key header or query parameter before the upstream (K6)", async () => {
  const g = await gateway({ keys: ["x-api-key", "apikey"], in_header: true, in_query: true, hide_credentials: true, consumers: CONSUMERS });
  const header = await send(g, "/v1/x?a=1", [["x-api-key", USER1]]);
  assert.equal(header.forwarded?.headers["x-api-key"], undefined);
  assert.equal(header.forwarded?.path, "/v1/x?a=1");
  const query = await send(g, `/v1/x?a=1&apikey=${USER1}&b=2`);
  assert.equal(query.res.status, 200);
  assert.equal(query.forwarded?.path, "/v1/x?a=1&b=2");
  const kept = await (async () => {
    const plain = await gateway({ keys: ["x-api-key"], in_header: true, consumers: CONSUMERS });
    return send(plain, "/", [["x-api-key", USER1]]);
  })();
  assert.equal(kept.forwarded?.headers["x-api-key"], USER1, "forwarded as Higress does unless hidden");
});

// The global_auth table of higress-behavior.md §2.3: [global_auth, rules?, request matches a rule?, expected]
const TABLE: Array<[boolean | undefined, boolean, boolean, "auth+allow" | "auth" | "pass"]> = [
  [true, true, true, "auth+allow"],
  [true, true, false, "auth"],
  [true, false, false, "auth"],
  [false, true, true, "auth+allow"],
  [false, true, false, "pass"],
  [false, false, false, "pass"],
  [undefined, false, false, "auth"],
  [undefined, true, true, "auth+allow"],
  [undefined, true, false, "pass"],
];

for (const [globalAuth, hasRules, matchesRule, expected] of TABLE) {
  test(`global_auth ${globalAuth}, rules ${hasRules ? "present" : "absent"}, ${matchesRule ? "matched" : "unmatched"} request: ${expected}`, async () => {
    const config: Record<string, unknown> = { ...WALKTHROUGH };
    if (globalAuth !== undefined) config.global_auth = globalAuth;
    if (hasRules) config._rules_ = [{ _match_domain_: ["*.aliyun.test"], allow: ["aliyun-user1"] }];
    const g = await gateway(config);
    const host = matchesRule ? "api.aliyun.test:8080" : "open.test";
    const noKey = await send(g, "/", [], host);
    const user1 = await send(g, "/", [["x-api-key", USER1]], host);
    const user2 = await send(g, "/", [["x-api-key", USER2]], host);
    if (expected === "pass") {
      assert.equal(noKey.res.status, 200);
      assert.deepEqual(consumerHeaders(user2.forwarded?.rawHeaders), [], "no header added on pass-through");
    } else {
      assertDenied(noKey.res, 401, NO_KEY);
      assert.equal(user1.res.status, 200);
      if (expected === "auth+allow") assertDenied(user2.res, 403, NOT_ALLOWED);
      else assert.deepEqual(consumerHeaders(user2.forwarded?.rawHeaders), ["aliyun-user2"]);
    }
  });
}

test("a _match_domain_ rule holds whatever the case and port of Host (G9): no spelling falls to the open global config", async () => {
  const g = await gateway({ ...WALKTHROUGH, global_auth: false, _rules_: [
    { _match_domain_: ["api.aliyun.test"], allow: ["aliyun-user1"] },
    { _match_domain_: ["*.Internal.Test"], allow: ["aliyun-user1"] },
    { _match_domain_: ["[::1]"], allow: ["aliyun-user1"] },
  ] });
  const hosts = ["API.ALIYUN.TEST", "Api.Aliyun.Test:443", "api.aliyun.test:8080", "api.aliyun.test.", "x.internal.test", "X.INTERNAL.TEST:80", "[::1]:8080"];
  for (const host of hosts) {
    const noKey = await send(g, "/v1/chat/completions", [], host);
    assertDenied(noKey.res, 401, NO_KEY);
    assert.equal(noKey.forwarded, null, host);
    const user1 = await send(g, "/v1/chat/completions", [["x-api-key", USER1]], host);
    assert.equal(user1.res.status, 200, host);
    assert.deepEqual(consumerHeaders(user1.forwarded?.rawHeaders), ["aliyun-user1"], host);
    assertDenied((await send(g, "/v1/chat/completions", [["x-api-key", USER2]], host)).res, 403, NOT_ALLOWED);
  }
  // A host the rules do not name still gets the global config: pass-through.
  assert.equal((await send(g, "/", [], "other.test")).res.status, 200);
  assert.equal((await send(g, "/", [], "api.aliyun.test.evil")).res.status, 200);
});

test("rules match by route, service and route prefix too", async () => {
  const byRoute = await gateway({ ...WALKTHROUGH, _rules_: [{ _match_route_: ["aliyun"], allow: ["aliyun-admin"] }] });
  assertDenied((await send(byRoute, "/", [["x-api-key", USER1]])).res, 403, NOT_ALLOWED);
  const byService = await gateway({ ...WALKTHROUGH, _rules_: [{ _match_service_: ["qwen.dns:443"], allow: ["aliyun-admin"] }] });
  assertDenied((await send(byService, "/", [["x-api-key", USER1]])).res, 403, NOT_ALLOWED);
  assert.equal((await send(byService, "/", [["x-api-key", ADMIN]])).res.status, 200);
  const byPrefix = await gateway({ ...WALKTHROUGH, _rules_: [{ _match_route_prefix_: ["ali"], allow: ["aliyun-admin"] }] });
  assertDenied((await send(byPrefix, "/", [["x-api-key", USER1]])).res, 403, NOT_ALLOWED);
  assert.equal((await send(byPrefix, "/", [], "open.test")).res.status, 200, "route open does not match the prefix");
});

test("key-auth imports nothing Higress-only, so plain Envoy loads it", async () => {
  const info = readModule(readFileSync(pluginWasm("key-auth")));
  assert.ok(info.imports.every((i) => i.module === "env" && i.name.startsWith("proxy_") && !i.name.startsWith("proxy_redis")));
  const host = await createHost({ wasm: pluginWasm("key-auth"), config: WALKTHROUGH, mode: "envoy" });
  assert.equal(host.chain.vms[0].abi, "0.2.1");
});
