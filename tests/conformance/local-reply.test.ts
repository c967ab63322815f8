import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET } from "../../host/direct.ts";
import { probeWasm } from "../support/paths.ts";

const op = (operation: string) => GET("/", [["x-test-operation", operation]]);
const header = (h: Array<[string, string]> | undefined, name: string) => (h ?? []).filter(([k]) => k === name).map(([, v]) => v);

test("a request-phase local reply keeps plugin headers and duplicates, adds text/plain, and runs through the sender's own response callbacks (item 13)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(op("local-reply"), true);
  const r = s.response();
  assert.equal(r?.status, 403);
  assert.equal(r?.body, "denied");
  assert.deepEqual(header(r?.headers, "x-probe"), ["1", "2"]);
  assert.deepEqual(header(r?.headers, "content-type"), ["text/plain"]);
  assert.deepEqual(header(r?.headers, "content-length"), ["6"]);
  // Set by the probe's own on_response_headers.
  assert.deepEqual(header(r?.headers, "x-probe-seen"), ["none"]);
  assert.equal(s.upstream.headers, null, "never forwarded");
});

test("an empty local reply carries neither content-type nor content-length; a given content-type is kept (item 13)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const empty = host.newStream().sendRequestHeaders(op("local-reply-empty"), true).response();
  assert.equal(empty?.status, 204);
  assert.deepEqual(header(empty?.headers, "content-type"), []);
  const typed = host.newStream().sendRequestHeaders(op("local-reply-typed"), true).response();
  assert.deepEqual(header(typed?.headers, "content-type"), ["application/json"]);
});

test("a second local reply on one stream gets BadArgument and the first wins (item 13)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const r = host.newStream().sendRequestHeaders(op("double-reply"), true).response();
  assert.equal(r?.status, 401);
  assert.ok(host.logs().some((l) => l.message === "second local reply status 2"));
});

test("a response-phase local reply before headers are sent replaces the response and skips encoders (item 13)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(op("respond-in-response"), true);
  s.sendResponseHeaders([[":status", "200"]]).sendResponseBody("upstream", true);
  const r = s.response();
  assert.equal(r?.status, 418);
  assert.equal(r?.body, "teapot");
  assert.deepEqual(header(r?.headers, "x-probe-seen"), [], "encoders were skipped");
});

test("set_effective_context with an unknown id answers BadArgument (item 14)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  assert.equal(host.newStream().sendRequestHeaders(op("effective-unknown"), true).response()?.body, "status=2");
});

test("a local reply after the response headers left resets the stream (item 13)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(op("respond-in-body"), true);
  s.sendResponseHeaders([[":status", "200"]]).sendResponseBody("part", false);
  assert.equal(s.response()?.status, 200);
  assert.equal(s.downstream.reset, "local reply after response headers were sent");
  assert.equal(s.downstream.chunks.length, 0, "the chunk in flight was not sent");
});
