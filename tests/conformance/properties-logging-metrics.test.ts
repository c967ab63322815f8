import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost, GET } from "../../host/direct.ts";
import { probeWasm } from "../support/paths.ts";

const ask = async (operation: string, arg: string, info = {}) => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  return host.newStream(info).sendRequestHeaders(GET("/a?b=c", [["x-test-operation", operation], ["x-test-arg", arg]]), true).response()?.body;
};

test("a dotted property path is NotFound; segments work (item 15)", async () => {
  assert.equal(await ask("property-dotted", "request.path"), "status=1");
  assert.equal(await ask("property", "request.path"), "value=/a?b=c");
  assert.equal(await ask("property", "request.url_path"), "value=/a");
});

test("int64 properties are 8 bytes little-endian; source.address is ip:port (item 15)", async () => {
  assert.equal(await ask("property-int", "source.port"), "value=50000 size=8");
  assert.equal(await ask("property", "source.address"), "value=127.0.0.1:50000");
});

test("route_name and cluster_name are present; route_name is NotFound without a route (item 15)", async () => {
  assert.equal(await ask("property", "route_name"), "value=test-route");
  assert.equal(await ask("property", "cluster_name"), "value=outbound|80||upstream.static");
  assert.equal(await ask("property", "route_name", { routeName: null }), "status=1");
});

test("set_property reads back in the same stream (item 15)", async () => {
  assert.equal(await ask("set-property", ""), "probe_value");
});

test("filter state is one per stream, shared by its filters as Envoy's StreamInfo: a later filter reads what an earlier one set, a new stream starts empty (item 15)", async () => {
  const probe = probeWasm("hostcalls");
  const host = await createHost({ wasm: probe, more: [{ name: "second", wasm: probe, config: {} }] });
  const headers = GET("/", [["x-test-operation", "filter-state-chain"]]);
  for (let i = 0; i < 2; i++) assert.equal(host.newStream().sendRequestHeaders(headers, true).response()?.body, "seen=first");
});

test("log level 6 is BadArgument and get_log_level reports the host level (item 16)", async () => {
  assert.equal(await ask("log-level", ""), "level=1 six=2");
});

test("metric ids encode the type; counter increment ≤ 0 is BadArgument; record adds to a counter; histogram get is BadArgument; unknown id NotFound (item 17)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const body = host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "metrics"]]), true).response()?.body;
  assert.equal(body, "ids=4,5,6 zero=2 counter=5 hist=0 unknown=1");
  assert.equal(host.metric("wasmcustom.probe.requests"), 5);
  assert.equal(host.metric("wasmcustom.probe.gauge"), 7);
  assert.equal(host.metric("wasmcustom.probe.cached"), 1);
});

test("fd_write to stdout logs at info with one trailing newline dropped (item 16)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  assert.equal(host.newStream().sendRequestHeaders(GET("/", [["x-test-operation", "fd-write"]]), true).response()?.body, "errno=0");
  assert.ok(host.logs().some((l) => l.level === 2 && l.message === "from fd_write"));
});
