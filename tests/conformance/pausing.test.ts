import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET } from "../../host/direct.ts";
import { probeWasm } from "../support/paths.ts";
import { readFileSync } from "node:fs";

const returning = (value: number) => GET("/", [["x-test-operation", "return"], ["x-test-arg", String(value)]]);

/** The probe with its 0.2.100 marker renamed, so Higress runs it as ABI 0.2.1. */
function as021(): Uint8Array {
  const bytes = Buffer.from(readFileSync(probeWasm("hostcalls")));
  const at = bytes.indexOf("proxy_abi_version_0_2_100");
  bytes.write("proxy_abi_version_0_2_10x", at);
  return bytes;
}

test("under 0.2.1 a header StopIteration becomes StopAll: no body callback until continue (item 10)", async () => {
  const host = await createHost({ wasm: as021() });
  assert.equal(host.chain.vms[0].abi, "0.2.1");
  const from = host.chain.vms[0].trace.length;
  const s = host.newStream().sendRequestHeaders(returning(1), false).sendRequestBody("abc", true);
  assert.equal(s.upstream.headers, null);
  assert.ok(!host.chain.vms[0].trace.slice(from).some((t) => t[0] === "proxy_on_request_body"));
});

test("under 0.2.100 a header StopIteration holds the headers while the body still reaches the plugin (item 10)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(returning(1), false);
  assert.equal(s.upstream.headers, null);
  s.sendRequestBody("abc", true);
  // Body Continue after the stop resumes the stream: headers, then the body.
  assert.ok(s.upstream.headers);
  assert.equal(s.upstreamBody(), "abc");
});

test("StopAll holds the body away from the plugin; header returns 2 continue (item 10)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  for (const value of [3, 4, 5]) {
    const s = host.newStream().sendRequestHeaders(returning(value), false).sendRequestBody("abc", true);
    assert.equal(s.upstream.headers, null, `return ${value} must stop`);
    s.reset();
  }
  const s = host.newStream().sendRequestHeaders(returning(2), true);
  assert.ok(s.upstream.headers);
});

test("body return 3 drops the chunk (item 10)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "drop-body"]])).sendRequestBody("abc", true);
  assert.equal(s.upstreamBody(), "");
});

test("continue_stream runs after the callback returns (item 11)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const s = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "continue-now"]]), true);
  assert.ok(s.upstream.headers, "resumed once the callback returned");
});

test("a buffered body is seen whole at eos, current chunk included; the legacy switch hides it (item 12)", async () => {
  const fixed = await createHost({ wasm: probeWasm("hostcalls") });
  const a = fixed.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "buffer-body"]])).sendRequestBody("ab").sendRequestBody("cd", true);
  assert.equal(a.upstreamBody(), "seen:abcd");
  const legacy = await createHost({ wasm: probeWasm("hostcalls"), legacyBodyBuffering: true });
  const b = legacy.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "buffer-body"]])).sendRequestBody("ab").sendRequestBody("cd", true);
  assert.equal(b.upstreamBody(), "seen:abcd".replace("abcd", "ab") + "cd");
});
