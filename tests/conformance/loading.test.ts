import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { checkModule } from "../../host/loader.ts";
import { createHost, GET } from "../../host/direct.ts";
import { wasmModule, minimalExports } from "../support/wasm-module.ts";
import { probeWasm } from "../support/paths.ts";
import { readModule } from "../../host/wasm-binary.ts";

const I = "i32" as const;
const withImport = (name: string, params: Array<"i32" | "i64">) => wasmModule({ imports: { [name]: { params, results: [I] } }, exports: minimalExports() });

test("rejects a module without an ABI marker (§6.4 item 1)", () => {
  const { proxy_abi_version_0_2_1, ...rest } = minimalExports();
  void proxy_abi_version_0_2_1;
  assert.throws(() => checkModule(wasmModule({ exports: rest }), "envoy"), /Missing or unknown Proxy-Wasm ABI version/);
});

test("rejects an unknown import with Envoy's message, env.abort included (item 1)", () => {
  const m = wasmModule({ imports: { "env.abort": { params: [I, I, I, I] } }, exports: minimalExports() });
  assert.throws(() => checkModule(m, "higress"), /Failed to load Wasm module due to a missing import: env.abort/);
});

test("rejects an import whose signature differs (item 1)", () => {
  assert.throws(() => checkModule(withImport("proxy_log", [I, I]), "envoy"), /import type mismatch: env.proxy_log/);
});

test("rejects a callback export with the wrong signature (item 1)", () => {
  const m = wasmModule({ exports: { ...minimalExports(), proxy_on_request_headers: { params: [I, I], results: [I] } } });
  assert.throws(() => checkModule(m, "envoy"), /Bad function signature for: proxy_on_request_headers/);
});

test("rejects a module with no allocator, and prefers malloc when both exist (item 1)", () => {
  const { proxy_on_memory_allocate, ...rest } = minimalExports();
  void proxy_on_memory_allocate;
  assert.throws(() => checkModule(wasmModule({ exports: rest }), "envoy"), /Wasm module is missing malloc function/);
  const both = wasmModule({ exports: { ...minimalExports(), malloc: { params: [I], results: [I] } } });
  assert.equal(checkModule(both, "envoy").allocator, "malloc");
});

test("rejects 0.1.0-only imports under ABI 0.2.x (item 2)", () => {
  for (const name of ["proxy_continue_request", "proxy_clear_route_cache"]) {
    assert.throws(() => checkModule(withImport(name, []), "higress"), new RegExp(`missing import: env.${name}`));
  }
});

test("a module importing proxy_redis_call is refused by plain Envoy and accepted by Higress (item 2)", () => {
  const m = withImport("proxy_redis_call", [I, I, I, I, I]);
  assert.throws(() => checkModule(m, "envoy"), /missing import: env.proxy_redis_call/);
  assert.equal(checkModule(m, "higress").abi, "0.2.1");
});

test("Higress picks the first marker 0.2.100, plain Envoy falls back to 0.2.1", () => {
  const m = wasmModule({ exports: { proxy_abi_version_0_2_100: {}, ...minimalExports() } });
  assert.equal(checkModule(m, "higress").abi, "0.2.100");
  assert.equal(checkModule(m, "envoy").abi, "0.2.1");
});

test("a built module exports both markers first, _initialize, and imports only proxy_* from env (G1, G2)", () => {
  const info = readModule(readFileSync(probeWasm("usage")));
  assert.deepEqual(info.exports.slice(0, 2).map((e) => e.name), ["proxy_abi_version_0_2_100", "proxy_abi_version_0_2_1"]);
  const names = info.exports.map((e) => e.name);
  for (const required of ["_initialize", "memory", "proxy_on_memory_allocate"]) assert.ok(names.includes(required), required);
  assert.ok(!names.includes("malloc"));
  for (const imp of info.imports) assert.match(`${imp.module}.${imp.name}`, /^env\.proxy_/);
});

test("the noop probe references no Redis call, so plain Envoy loads it", async () => {
  const info = readModule(readFileSync(probeWasm("noop")));
  assert.ok(!info.imports.some((i) => i.name.startsWith("proxy_redis")));
  const host = await createHost({ wasm: probeWasm("noop"), mode: "envoy" });
  assert.equal(host.chain.failed(), false);
});

test("start order is _initialize, context_create(1, 0), vm_start, configure (item 3)", async () => {
  const host = await createHost({ wasm: probeWasm("hostcalls") });
  const calls = host.chain.vms[0].trace.map((t) => t.join(" "));
  assert.deepEqual(calls.slice(0, 4), ["_initialize", "proxy_on_context_create 1 0", "proxy_on_vm_start 1 0", `proxy_on_configure 1 2`]);
});

test("configure returning false or trapping rejects the plugin with a log line (item 3)", async () => {
  await assert.rejects(createHost({ wasm: probeWasm("hostcalls"), config: { mode: "reject-config" } }), /rejected its configuration: .*probe: configuration rejected/);
  await assert.rejects(createHost({ wasm: probeWasm("hostcalls"), config: { mode: "trap-config" } }), /rejected its configuration: .*Wasm VM failed/);
});

test("a host call other than logging during _initialize traps the VM (item 3)", async () => {
  const property = { params: [I, I, I, I], results: [I] };
  const trapping = wasmModule({ imports: { proxy_get_property: property }, exports: { ...minimalExports(), _initialize: {} }, initCalls: "proxy_get_property" });
  await assert.rejects(createHost({ wasm: trapping }), /restricted_callback: proxy_get_property called during VM start/);
  const logging = wasmModule({ imports: { proxy_log: { params: [I, I, I], results: [I] } }, exports: { ...minimalExports(), _initialize: {} }, initCalls: "proxy_log" });
  const host = await createHost({ wasm: logging });
  assert.equal(host.chain.failed(), false);
});

test("runs module code compiled by TurboFan, never Liftoff, as Envoy's V8 does", async () => {
  // proxy-wasm-cpp-host turns Liftoff off; V8's natives tell which compiler made a function.
  setFlagsFromString("--allow-natives-syntax");
  const compiledBy = new Function("f", "return [%IsTurboFanFunction(f), %IsLiftoffFunction(f)]") as (f: Function) => [boolean, boolean];
  const host = await createHost({ wasm: probeWasm("noop") });
  host.newStream().sendRequestHeaders(GET("/"), true);
  const vm = host.chain.vms[0];
  for (const name of ["proxy_on_configure", "proxy_on_request_headers"]) {
    assert.deepEqual(compiledBy(vm.exported(name)!), [true, false], name);
  }
});
