import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET } from "../../host/direct.ts";
import { probeWasm } from "../support/paths.ts";

const probe = () => createHost({ wasm: probeWasm("hostcalls") });
const names = (host: Awaited<ReturnType<typeof probe>>, from: number) => host.chain.vms[0].trace.slice(from).map((t) => t[0]);

test("stream ids increase, are never reused, and context_create comes right before request headers (item 5)", async () => {
  const host = await probe();
  const trace = host.chain.vms[0].trace;
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) {
    const from = trace.length;
    host.newStream().sendRequestHeaders(GET(), true).sendResponseHeaders([[":status", "200"]], true);
    assert.equal(trace[from][0], "proxy_on_context_create");
    assert.equal(trace[from + 1][0], "proxy_on_request_headers");
    ids.push(trace[from][1] as number);
    assert.equal(trace[from][2], 1, "parent is the root");
  }
  assert.deepEqual(ids, [2, 3, 4]);
});

test("a GET without body gets no on_request_body; a chunked body ends with a (0, eos) call (item 6)", async () => {
  const host = await probe();
  const from = host.chain.vms[0].trace.length;
  host.newStream().sendRequestHeaders(GET(), true).sendResponseHeaders([[":status", "200"]], true);
  assert.ok(!names(host, from).includes("proxy_on_request_body"));
  const s = host.newStream().sendRequestHeaders(GET(), false).sendRequestBody("abc").sendRequestBody("", true);
  s.sendResponseHeaders([[":status", "200"]], true);
  assert.equal(s.response()?.headers.find(([k]) => k === "x-probe-seen")?.[1], "body(3,more)body(0,eos)");
});

test("trailers come after a non-eos last chunk (item 6)", async () => {
  const host = await probe();
  const from = host.chain.vms[0].trace.length;
  const s = host.newStream().sendRequestHeaders(GET(), false).sendRequestBody("abc").sendRequestTrailers([["x-t", "1"]]);
  assert.deepEqual(names(host, from).slice(-2), ["proxy_on_request_body", "proxy_on_request_trailers"]);
  assert.deepEqual(s.upstream.trailers, [["x-t", "1"]]);
});

test("a plugin that buffered the body gets the trailers with the whole body readable, and Continue sends both on", async () => {
  const host = await probe();
  const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "buffer-body"]]), false).sendRequestBody("ab").sendRequestBody("cd");
  assert.equal(s.upstream.chunks.length, 0, "the body is held while it buffers");
  s.sendRequestTrailers([["x-t", "1"]]);
  assert.equal(Buffer.concat(s.upstream.chunks).toString(), "trailers-saw:abcd");
  assert.deepEqual(s.upstream.trailers, [["x-t", "1"]]);
});

test("end order is on_log, on_done, on_delete; in on_log headers are readable and writes give 2 (item 7)", async () => {
  const host = await probe();
  const from = host.chain.vms[0].trace.length;
  host.newStream().sendRequestHeaders(GET("/end"), true).sendResponseHeaders([[":status", "200"]], true);
  assert.deepEqual(names(host, from).slice(-3), ["proxy_on_log", "proxy_on_done", "proxy_on_delete"]);
  assert.ok(host.logs().some((l) => l.message === "probe log path=/end write=2 op="));
});

test("a client abort while paused still yields on_log, on_done, on_delete (item 7)", async () => {
  const host = await probe();
  const from = host.chain.vms[0].trace.length;
  const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "return"], ["x-test-arg", "4"]]), true);
  assert.equal(s.upstream.headers, null, "paused");
  s.reset();
  assert.deepEqual(names(host, from).slice(-3), ["proxy_on_log", "proxy_on_done", "proxy_on_delete"]);
  assert.equal(s.upstream.cancelled, true);
});
