import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET } from "../../host/direct.ts";
import { probeWasm } from "../support/paths.ts";

const run = async (operation: string, arg = "", extra: Array<[string, string]> = []) => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(GET("/p", [["x-test-operation", operation], ["x-test-arg", arg], ...extra]), true);
  return s;
};

test("header lookups are case-insensitive; missing gives NotFound (item 8)", async () => {
  assert.equal((await run("read-header", "X-Test-Operation")).response()?.body, "status=0 value=read-header count=6");
  assert.equal((await run("read-header", "x-missing")).response()?.body, "status=1 value=null count=6");
});

test("an empty header value is Ok with an empty value; duplicates give the first (item 8)", async () => {
  assert.equal((await run("read-header", "x-empty", [["x-empty", ""]])).response()?.body, "status=0 value= count=7");
  assert.equal((await run("read-header", "x-dup", [["x-dup", "first"], ["x-dup", "second"]])).response()?.body, "status=0 value=first count=8");
});

test("get_pairs lists pseudo-headers first in map order (item 8)", async () => {
  const body = (await run("pairs")).response()?.body ?? "";
  assert.deepEqual(body.split("\n").slice(0, 4), [":authority=example.com", ":path=/p", ":method=GET", ":scheme=http"]);
});

test("replace removes duplicates, add keeps them, remove of an absent header is Ok (item 8)", async () => {
  const s = await run("edit-headers", "", [["x-replaced", "a"], ["x-replaced", "b"], ["x-remove-me", "1"]]);
  assert.deepEqual(s.upstreamHeader("x-replaced"), ["one"]);
  assert.deepEqual(s.upstreamHeader("x-added"), ["a", "b"]);
  assert.deepEqual(s.upstreamHeader("x-remove-me"), []);
});

test("request headers after Continue, in body or response callbacks, answer BadArgument (item 8)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "read-in-body"]]), false).sendRequestBody("x", true);
  assert.equal(s.upstreamBody(), "x[status=2]");
  s.sendResponseHeaders([[":status", "200"]], true);
  assert.equal(s.response()?.headers.find(([k]) => k === "x-request-header-status")?.[1], "2");
});

test("a malformed set_header_map_pairs silently wipes the map (item 8)", async () => {
  assert.equal((await run("wipe-pairs")).response()?.body, "status=0 after=0");
});

test("get_header_map_size is the byte size of names and values, not a count (item 8)", async () => {
  const s = await run("map-size");
  const sent = [[":authority", "example.com"], [":path", "/p"], [":method", "GET"], [":scheme", "http"], ["x-test-operation", "map-size"], ["x-test-arg", ""]];
  const bytes = sent.reduce((n, [k, v]) => n + k.length + v.length, 0);
  assert.equal(s.response()?.body, `status=0 size=${bytes}`);
});
