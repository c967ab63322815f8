import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET } from "../../host/direct.ts";
import { probeWasm } from "../support/paths.ts";

test("a trap fails the VM: this and later streams get an empty 503 and no more callbacks (item 19)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const first = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "trap"]]), true);
  assert.equal(first.response()?.status, 503);
  assert.equal(first.response()?.body, "");
  assert.equal(host.chain.failed(), true);
  const calls = host.chain.vms[0].trace.length;
  const later = host.newStream().sendRequestHeaders(GET("/"), true);
  assert.equal(later.response()?.status, 503);
  assert.equal(later.upstream.headers, null);
  assert.equal(host.chain.vms[0].trace.length, calls, "no callback after the failure");
  assert.ok(host.logs(5).some((l) => l.message.startsWith("Wasm VM failed")));
});

test("a trap in a body callback fails the stream with 503 (item 19)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "body-trap"]])).sendRequestBody("x", true);
  assert.equal(s.response()?.status, 503);
});

test("guest memory plateaus over 10 000 requests (item 20)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const memory = host.chain.vms[0].memory;
  const round = () => {
    const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "edit-headers"]]), false).sendRequestBody("body", true);
    s.sendResponseHeaders([[":status", "200"]]).sendResponseBody("ok", true);
  };
  for (let i = 0; i < 2000; i++) round();
  const after2k = memory.buffer.byteLength;
  for (let i = 0; i < 8000; i++) round();
  assert.equal(memory.buffer.byteLength, after2k);
  assert.equal(host.chain.failed(), false);
});
