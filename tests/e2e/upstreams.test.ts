/**
 * The host gateway's upstreams as Envoy's router treats them (issue 18): http and https (system CAs
 * plus a CA file), the cluster URL's path kept as a base path, Host set to the upstream's, and
 * connect failures, TLS failures and timeouts answered 503/504 with a router log line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import OpenAI from "openai";
import { startUpstream } from "../support/upstream.ts";
import { makeCertificates } from "../support/tls.ts";
import { request, waitFor } from "../support/net.ts";
import { spawnSync } from "node:child_process";
import { repoRoot } from "../support/paths.ts";
import { runNpmStart } from "../support/npm-start.ts";
import { startGateway, UPSTREAM_CONNECT_TIMEOUT, UPSTREAM_TIMEOUT, UPSTREAM_TLS_FAILURE, type Gateway } from "../../host/gateway.ts";
import { GatewayConfigError, parseGatewayConfig } from "../../host/gateway-config.ts";

const CHAT = { model: "qwen-max", messages: [{ role: "user" as const, content: "Who are you?" }] };

test("npm start with UPSTREAM_URL=https://127.0.0.1:<port>/compatible-mode: the openai client chats through it, streaming and not, with the base path kept and the upstream's Host", async () => {
  const certs = makeCertificates();
  const upstream = await startUpstream({ tls: certs });
  const start = await runNpmStart({ UPSTREAM_URL: `${upstream.url}/compatible-mode`, UPSTREAM_CA_FILE: certs.caFile });
  const { base, key } = start;
  try {
    for (const user of ["aliyun-user1", "aliyun-user2"]) {
      const refresh = await request(`${base}/v1/chat/completions/quota/refresh`, { headers: [["x-api-key", key("aliyun-admin")]], body: `consumer=${user}&quota=1000` });
      assert.equal(refresh.body, "refresh quota successful");
    }
    const client = (user: string) => new OpenAI({ apiKey: "sk-unused", baseURL: `${base}/v1`, maxRetries: 0, defaultHeaders: { "x-api-key": key(user) } });
    const answer = await client("aliyun-user1").chat.completions.create(CHAT);
    assert.ok(answer.choices[0].message.content!.length > 0);
    assert.equal(answer.usage!.completion_tokens, 12);
    // The walkthrough limits each key to 5 tokens a minute: the streamed chat is user2's first.
    let streamed = "";
    for await (const chunk of await client("aliyun-user2").chat.completions.create({ ...CHAT, stream: true })) streamed += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(streamed, answer.choices[0].message.content);
    const chats = upstream.requests.filter((r) => r.method === "POST");
    assert.deepEqual(chats.map((r) => r.path), ["/compatible-mode/v1/chat/completions", "/compatible-mode/v1/chat/completions"]);
    assert.deepEqual(chats.map((r) => r.headers.host), [`127.0.0.1:${upstream.port}`, `127.0.0.1:${upstream.port}`], "Host is the upstream's, not the gateway's");
    // Metered: the key's next chat within the minute is over the limit (no retry: the SDK would wait out Retry-After).
    await assert.rejects(client("aliyun-user1").chat.completions.create(CHAT), (e: { status?: number }) => e.status === 429);
  } finally {
    await start.stop();
    await upstream.close();
    certs.remove();
  }
});

/** A gateway with one route to `cluster`, no plugins: what the router does alone. */
async function routerOnly(cluster: object): Promise<Gateway> {
  return startGateway({ clusters: { llm: cluster }, routes: [{ name: "r", prefix: "/", cluster: "llm" }], plugins: [] });
}

test("an https upstream whose certificate no trusted CA signed is answered 503 with the TLS reason, and the router logs it; with ca_file it is trusted", async () => {
  const certs = makeCertificates();
  const upstream = await startUpstream({ tls: certs });
  const untrusted = await routerOnly({ url: upstream.url });
  const trusted = await routerOnly({ url: upstream.url, ca_file: certs.caFile });
  try {
    const refused = await request(`${untrusted.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body: JSON.stringify(CHAT) });
    assert.equal(refused.status, 503);
    assert.ok(refused.body.startsWith(UPSTREAM_TLS_FAILURE), refused.body);
    assert.match(untrusted.routerLogs().join("\n"), new RegExp(`upstream llm \\(${upstream.url.replaceAll(".", "\\.")}\\) POST /v1/chat/completions: .*(certificate|CERT)`));
    assert.equal(upstream.requests.length, 0, "nothing was sent over the untrusted connection");
    const served = await request(`${trusted.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body: JSON.stringify(CHAT) });
    assert.equal(served.status, 200);
    assert.equal(JSON.parse(served.body).usage.completion_tokens, 12);
  } finally {
    await untrusted.close();
    await trusted.close();
    await upstream.close();
    certs.remove();
  }
});

/** A TCP server that accepts and never answers: no TLS handshake, no HTTP response. */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test("timeouts: a TLS handshake that never completes is a connect timeout (503), a response that never comes is the route timeout (504), each logged", async () => {
  const silent = await silentServer();
  const handshake = await routerOnly({ url: `https://127.0.0.1:${silent.port}`, connect_timeout: 0.3 });
  const response = await routerOnly({ url: `http://127.0.0.1:${silent.port}`, timeout: 0.3 });
  try {
    const connect = await request(`${handshake.url}/v1/models`);
    assert.deepEqual([connect.status, connect.body], [503, UPSTREAM_CONNECT_TIMEOUT]);
    assert.match(handshake.routerLogs().join("\n"), /upstream llm .* GET \/v1\/models: connect timeout/);
    const started = Date.now();
    const late = await request(`${response.url}/v1/models`);
    assert.deepEqual([late.status, late.body], [504, UPSTREAM_TIMEOUT]);
    assert.ok(Date.now() - started < 3000);
    assert.match(response.routerLogs().join("\n"), /upstream llm .*: no complete response within the route timeout of 0\.3 s/);
  } finally {
    await handshake.close();
    await response.close();
    await silent.close();
  }
});

test("the route timeout after the response started resets the client's stream, as Envoy does (no 504 after a 200)", async () => {
  const upstream = await startUpstream({ stallAt: "usage" });
  const g = await routerOnly({ url: upstream.url, timeout: 0.3 });
  try {
    await assert.rejects(request(`${g.url}/v1/chat/completions`, { headers: [["content-type", "application/json"]], body: JSON.stringify(CHAT) }), /aborted|socket hang up|ECONNRESET/);
    assert.match(g.routerLogs().join("\n"), /route timeout of 0\.3 s/);
  } finally {
    await g.close();
    await upstream.close();
  }
});

test("an upstream cluster's mistakes fail start-up naming the field", () => {
  const refusals: Array<[object, RegExp]> = [
    [{ url: "ftp://127.0.0.1:21" }, /clusters\.llm\.url must be an http or https URL, got "ftp:\/\/127\.0\.0\.1:21"/],
    [{ url: "http://127.0.0.1:80/v1?x=1" }, /clusters\.llm\.url must be scheme, host, port and base path only/],
    [{ url: "http://127.0.0.1:80", ca_file: "/etc/hostname" }, /clusters\.llm\.ca_file is for an https url/],
    [{ url: "https://127.0.0.1:443", ca_file: "/nonexistent/ca.pem" }, /clusters\.llm\.ca_file cannot be read: ENOENT/],
    [{ url: "https://127.0.0.1:443", ca_file: `${repoRoot}package.json` }, /clusters\.llm\.ca_file holds no PEM certificate/],
    [{ url: "http://127.0.0.1:80", timeout: "15s" }, /clusters\.llm\.timeout must be a number of seconds, 0 \(none\) to 86400, got "15s"/],
    [{ url: "http://127.0.0.1:80", connect_timeout: 0 }, /clusters\.llm\.connect_timeout must be a number of seconds, above 0 to 86400, got 0/],
    [{ url: "http://127.0.0.1:80", tiemout: 1 }, /clusters\.llm\.tiemout is not a known key/],
  ];
  for (const [cluster, message] of refusals) {
    assert.throws(() => parseGatewayConfig({ clusters: { llm: cluster }, routes: [{ name: "r", cluster: "llm" }], plugins: [] }), (e: Error) => e instanceof GatewayConfigError && message.test(e.message), JSON.stringify(cluster));
  }
});

test("npm start prints the router's log line for an upstream it cannot trust, and refuses an UPSTREAM_URL that is no http(s) URL naming it", async () => {
  const certs = makeCertificates();
  const upstream = await startUpstream({ tls: certs });
  const start = await runNpmStart({ UPSTREAM_URL: upstream.url });
  try {
    await request(`${start.base}/v1/chat/completions/quota/refresh`, { headers: [["x-api-key", start.key("aliyun-admin")]], body: "consumer=aliyun-user1&quota=1000" });
    const chat = await request(`${start.base}/v1/chat/completions`, { headers: [["x-api-key", start.key("aliyun-user1")], ["content-type", "application/json"]], body: JSON.stringify(CHAT) });
    assert.equal(chat.status, 503);
    await waitFor(() => /\[warn\] router: upstream llm \(https:\/\/127\.0\.0\.1:\d+\) POST \/v1\/chat\/completions: UNABLE_TO_VERIFY_LEAF_SIGNATURE unable to verify the first certificate/.test(start.output()), 3000);
  } finally {
    await start.stop();
    await upstream.close();
    certs.remove();
  }
  const bad = spawnSync(process.execPath, ["--import", "tsx", `${repoRoot}scripts/start.ts`], { env: { ...process.env, PORT: "0", UPSTREAM_URL: "ftp://127.0.0.1/x" }, encoding: "utf8", timeout: 30_000 });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /gateway config: clusters\.llm\.url must be an http or https URL, got "ftp:\/\/127\.0\.0\.1\/x" \(from UPSTREAM_URL \/ UPSTREAM_CA_FILE\)/);
});
