import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET } from "../../host/direct.ts";
import { probeWasm } from "../support/paths.ts";

const probe = () => createHost({ wasm: probeWasm("hostcalls") });
const op = (operation: string) => GET("/", [["x-test-operation", operation]]);

test("plugin configuration is readable only in configure; a body read in the headers callback is absent (items 4, 9)", async () => {
  const host = await probe();
  assert.equal(host.newStream().sendRequestHeaders(op("read-config"), true).response()?.body, "plugin=null status=1 vm=null");
  assert.equal(host.newStream().sendRequestHeaders(op("body-in-headers"), true).response()?.body, "body=null status=1");
});

test("set_buffer_bytes prepends at 0 and appends past the end; mid-buffer is BadArgument (item 9)", async () => {
  const host = await probe();
  assert.equal(host.newStream().sendRequestHeaders(op("body-edit")).sendRequestBody("body", true).upstreamBody(), "<body>");
  assert.equal(host.newStream().sendRequestHeaders(op("body-mid")).sendRequestBody("body", true).upstreamBody(), "body[mid=2]");
});

test("buffer 9 outside its Redis callback is empty (item 9)", async () => {
  const host = await probe();
  assert.equal(host.newStream().sendRequestHeaders(op("redis-buffer"), true).response()?.body, "redis=0");
});

test("a response body can be replaced whole (item 9)", async () => {
  const host = await probe();
  const s = host.newStream().sendRequestHeaders(op("response-upper"), true);
  s.sendResponseHeaders([[":status", "200"]]).sendResponseBody("abc", true);
  assert.equal(s.response()?.body, "ABC");
});

test("a read starting past the end is Ok and empty; unknown and immutable buffers answer BadArgument (item 9)", async () => {
  const host = await probe();
  assert.equal(host.newStream().sendRequestHeaders(op("body-past-end")).sendRequestBody("body", true).upstreamBody(), "body[past=0 status=0]");
  assert.equal(host.newStream().sendRequestHeaders(op("buffer-edges"), true).response()?.body, "unknown=null:2 immutable=2");
});
