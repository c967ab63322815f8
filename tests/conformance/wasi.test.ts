/**
 * WASI preview1 as Envoy answers it (proxy-wasm-cpp-host src/exports.cc, wasi_unstable_*), so that
 * a Go wasip1 plugin, Higress's own, starts here as it starts in Envoy. The wasip1-startup probe
 * replays Go's start-up calls in Go's order and checks them as Go does; these tests check the values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost } from "../../host/direct.ts";
import { checkModule } from "../../host/loader.ts";
import { wasiCalls } from "../../host/wasi.ts";
import { wasmModule, minimalExports } from "../support/wasm-module.ts";
import { probeWasm } from "../support/paths.ts";
import type { HostMode } from "../../host/stream-api.ts";

const I = "i32" as const;
const L = "i64" as const;

async function startProbe(options: { env?: Record<string, string>; logLevel?: number; mode?: HostMode } = {}) {
  const host = await createHost({ wasm: probeWasm("wasip1-startup"), mode: options.mode ?? "higress", env: options.env, logLevel: options.logLevel });
  assert.equal(host.chain.failed(), false, "the probe failed to start: " + host.chain.logs().map((l) => l.message).join(" | "));
  const lines = host.chain.logs().filter((l) => l.message.startsWith("wasip1 ")).map((l) => l.message.slice("wasip1 ".length));
  return { host, lines };
}

/** A line's step: its words without the recorded values (an fd names the step, so it stays). */
const step = (line: string) => line.split(" ").filter((word) => !word.includes("=") || word.startsWith("fd=")).join(" ");

/** The one line starting with `prefix`, with its "key=value" fields. */
function field(lines: string[], prefix: string): Record<string, string> {
  const hits = lines.filter((l) => l.startsWith(prefix + " "));
  assert.equal(hits.length, 1, `one line for ${prefix}: ${JSON.stringify(hits)}`);
  return Object.fromEntries(hits[0].slice(prefix.length + 1).split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
}

test("Go's wasip1 start-up sequence runs in _initialize and every call answers as Envoy's", async () => {
  for (const mode of ["higress", "envoy"] as const) {
    const before = BigInt(Date.now()) * 1_000_000n;
    const { lines } = await startProbe({ mode, env: { PWD: "/plugin", GODEBUG: "randseednop=0" } });
    // The order is Go's: schedinit, then syscall's and os's package inits, the scheduler's sleep and
    // a write to stderr, all in _initialize; then what a started plugin may call, from on_vm_start.
    assert.deepEqual(lines.map(step), [
      "clock_time_get monotonic", "random_get", "args_sizes_get", "environ_sizes_get", "environ_get", "environ_get",
      "clock_time_get realtime",
      "SetNonblock fd_fdstat_get fd=0", "SetNonblock fd_fdstat_get fd=1", "SetNonblock fd_fdstat_set_flags fd=1",
      "SetNonblock fd_fdstat_get fd=2", "SetNonblock fd_fdstat_set_flags fd=2",
      "fd_prestat_get stopped fd=3",
      "NewFile fd_fdstat_get fd=0", "NewFile fd_fdstat_get fd=1", "NewFile fd_fdstat_get fd=2",
      "poll_oneoff", "fd_write fd=2",
      "sched_yield", "path_open", "fd_read", "fd_seek", "fd_close", "clock_res_get", "clock_res_get", "clock_res_get", "clock_res_get",
      "clock_time_get", "random_get", "proc_exit returned",
    ], mode);
    assert.ok(BigInt(field(lines, "clock_time_get monotonic").ns) > 0n);
    const wall = BigInt(field(lines, "clock_time_get realtime").ns);
    assert.ok(wall >= before - 1_000_000_000n && wall <= BigInt(Date.now()) * 1_000_000n + 1_000_000_000n, `realtime ${wall}`);
    // randinit's 32-byte seed; Go falls back to the clock if the call fails or leaves it all zero.
    assert.deepEqual(field(lines, "random_get len=32"), { errno: "0", allZero: "no" });
    assert.deepEqual(field(lines, "args_sizes_get"), { argc: "0", bufLen: "0" });
    // The VM's environment: "KEY=VALUE\0" each, 12 + 22 bytes, read back by Go's pointer walk.
    assert.deepEqual(field(lines, "environ_sizes_get"), { count: "2", bufLen: "34" });
    assert.deepEqual(lines.filter((l) => l.startsWith("environ_get ")), ["environ_get PWD=/plugin", "environ_get GODEBUG=randseednop=0"]);
  }
});

test("stdin is EBADF; stdout and stderr report no flags and only FD_WRITE; set_flags is ENOSYS, which Go ignores", async () => {
  const { lines } = await startProbe();
  for (const caller of ["SetNonblock", "NewFile"]) {
    assert.deepEqual(field(lines, `${caller} fd_fdstat_get fd=0`), { errno: "8", statUntouched: "yes" });
    for (const fd of [1, 2]) {
      assert.deepEqual(field(lines, `${caller} fd_fdstat_get fd=${fd}`), { errno: "0", filetype: "0", flags: "0", rightsBase: "64", rightsInheriting: "0" });
    }
  }
  assert.deepEqual(field(lines, "SetNonblock fd_fdstat_set_flags fd=1"), { errno: "52" });
  assert.deepEqual(field(lines, "SetNonblock fd_fdstat_set_flags fd=2"), { errno: "52" });
});

test("the preopen scan stops at fd 3 with EBADF, and poll_oneoff succeeds with no events at once", async () => {
  const { lines } = await startProbe();
  assert.deepEqual(field(lines, "fd_prestat_get stopped"), { fd: "3", errno: "8" });
  // Envoy does not sleep or fill events: nevents is 0 and the event record is left as it was.
  assert.deepEqual(field(lines, "poll_oneoff"), { errno: "0", nevents: "0", eventUntouched: "yes" });
});

test("fd_write to stderr logs at error with one newline dropped and counts the newline", async () => {
  const { host, lines } = await startProbe();
  assert.deepEqual(field(lines, "fd_write fd=2"), { errno: "0", nwritten: "32", of: "32" });
  assert.deepEqual(host.chain.logs().filter((l) => l.message.startsWith("wasip1-startup:")).map((l) => [l.level, l.message]), [[4, "wasip1-startup: runtime started"]]);
});

test("after start: sched_yield 0, path_open NOENT, fd_read NOSYS, fd_seek and fd_close 0, clock ids past 1 NOTSUP, random_get over 64 KiB INVAL, proc_exit returns", async () => {
  const { lines } = await startProbe();
  assert.deepEqual(field(lines, "sched_yield"), { errno: "0" });
  assert.deepEqual(field(lines, "path_open"), { errno: "44", fdUntouched: "yes" });
  assert.deepEqual(field(lines, "fd_read"), { errno: "52" });
  assert.deepEqual(field(lines, "fd_seek"), { errno: "0", offsetUntouched: "yes" });
  assert.deepEqual(field(lines, "fd_close"), { errno: "0" });
  assert.deepEqual(field(lines, "clock_res_get id=0"), { errno: "0", ns: "1" });
  assert.deepEqual(field(lines, "clock_res_get id=1"), { errno: "0", ns: "1" });
  assert.deepEqual(field(lines, "clock_res_get id=2"), { errno: "58" });
  assert.deepEqual(field(lines, "clock_res_get id=3"), { errno: "58" });
  assert.deepEqual(field(lines, "clock_time_get id=2"), { errno: "58" });
  assert.deepEqual(field(lines, "random_get len=65537"), { errno: "28" });
  assert.ok(lines.includes("proc_exit returned"));
});

test("fd_seek, fd_close and proc_exit leave a trace line of Envoy's, seen at trace level only", async () => {
  const traced = (await startProbe({ logLevel: 0 })).host.chain.logs().filter((l) => l.level === 0).map((l) => l.message);
  assert.deepEqual(traced, ["wasi_unstable fd_seek", "wasi_unstable fd_close", "wasi_unstable proc_exit"]);
  const quiet = (await startProbe({ logLevel: 1 })).host.chain.logs().filter((l) => l.message.startsWith("wasi_unstable"));
  assert.deepEqual(quiet, []);
});

test("with no environment configured, environ_sizes_get answers 0 and 0", async () => {
  const { lines } = await startProbe();
  assert.deepEqual(field(lines, "environ_sizes_get"), { count: "0", bufLen: "0" });
  assert.equal(lines.filter((l) => l.startsWith("environ_get")).length, 0);
});

/** A module whose _initialize calls one WASI import with zero arguments. */
const callingAtStart = (name: string, params: Array<"i32" | "i64">, results: Array<"i32"> = [I]) =>
  wasmModule({ imports: { [`wasi_snapshot_preview1.${name}`]: { params, results } }, exports: { ...minimalExports(), _initialize: {} }, initCalls: `wasi_snapshot_preview1.${name}` });

test("during start the calls startVm does not list trap (sched_yield, proc_exit, path_open, fd_read, fd_seek, fd_close); the ones Go needs do not", async () => {
  const refused: Array<[string, Array<"i32" | "i64">, Array<"i32">?]> = [
    ["sched_yield", []], ["proc_exit", [I], []], ["path_open", [I, I, I, I, I, L, L, I, I]], ["fd_read", [I, I, I, I]], ["fd_seek", [I, L, I, I]], ["fd_close", [I]],
  ];
  for (const [name, params, results] of refused) {
    await assert.rejects(createHost({ wasm: callingAtStart(name, params, results) }), new RegExp(`restricted_callback: ${name} called during VM start`), name);
  }
  const allowed: Array<[string, Array<"i32" | "i64">]> = [
    ["fd_prestat_get", [I, I]], ["fd_prestat_dir_name", [I, I, I]], ["poll_oneoff", [I, I, I, I]], ["fd_fdstat_get", [I, I]],
    ["fd_fdstat_set_flags", [I, I]], ["clock_res_get", [I, I]], ["fd_filestat_get", [I, I]], ["path_filestat_get", [I, I, I, I, I]], ["sock_shutdown", [I, I]],
  ];
  for (const [name, params] of allowed) {
    const host = await createHost({ wasm: callingAtStart(name, params) });
    assert.equal(host.chain.failed(), false, name);
  }
});

test("WASI imports link with proxy-wasm-cpp-host's signatures, under both module names, and not with the spec's where they differ", () => {
  const importing = (key: string, params: Array<"i32" | "i64">) => wasmModule({ imports: { [key]: { params, results: [I] } }, exports: minimalExports() });
  for (const module of ["wasi_snapshot_preview1", "wasi_unstable"]) {
    for (const mode of ["envoy", "higress"] as const) checkModule(importing(`${module}.fd_prestat_get`, [I, I]), mode);
  }
  // The spec's path_link has 7 parameters and path_symlink 5; Envoy declares 6 and 4.
  assert.throws(() => checkModule(importing("wasi_snapshot_preview1.path_link", [I, I, I, I, I, I, I]), "higress"), /import type mismatch: wasi_snapshot_preview1.path_link/);
  checkModule(importing("wasi_snapshot_preview1.path_link", [I, I, I, I, I, I]), "higress");
  assert.throws(() => checkModule(importing("wasi_snapshot_preview1.path_symlink", [I, I, I, I, I]), "envoy"), /import type mismatch/);
  // path_rename: 6 words upstream (envoy mode), 5 in Higress's fork.
  checkModule(importing("wasi_snapshot_preview1.path_rename", [I, I, I, I, I, I]), "envoy");
  checkModule(importing("wasi_snapshot_preview1.path_rename", [I, I, I, I, I]), "higress");
  assert.throws(() => checkModule(importing("wasi_snapshot_preview1.path_rename", [I, I, I, I, I, I]), "higress"), /import type mismatch/);
});

test("the file, path and socket stubs answer exports.cc's fixed errnos and zero their out-parameters", () => {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const view = new DataView(memory.buffer);
  const calls = (mode: HostMode) => wasiCalls({ mode, memory: () => memory, log: () => {}, env: [] });
  const w = calls("envoy");
  const OUT = 64;
  const poison = () => new Uint8Array(memory.buffer).fill(0xee, OUT, OUT + 8);
  // [call, arguments, errno]; fd 1 and 2 are the only files the stubs know.
  const rows: Array<[string, unknown[], number]> = [
    ["fd_advise", [7, 0n, 0n, 0], 0],
    ["fd_allocate", [1, 0n, 0n], 0], ["fd_allocate", [3, 0n, 0n], 8],
    ["fd_datasync", [2], 0], ["fd_datasync", [0], 8],
    ["fd_sync", [1], 0], ["fd_sync", [5], 8],
    ["fd_fdstat_set_rights", [1, 0n, 0n], 0], ["fd_fdstat_set_rights", [4, 0n, 0n], 8],
    ["fd_filestat_set_size", [2, 0n], 0], ["fd_filestat_set_size", [9, 0n], 8],
    ["fd_filestat_set_times", [1, 0n, 0n, 0], 0], ["fd_filestat_set_times", [0, 0n, 0n, 0], 8],
    ["fd_filestat_get", [1, OUT], 8], ["fd_prestat_dir_name", [3, OUT, 8], 52], ["fd_pread", [1, 0, 0, 0n, OUT], 52],
    ["fd_renumber", [1, 2], 58], ["fd_renumber", [1, 3], 8],
    ["path_filestat_get", [3, 0, 0, 0, OUT], 58], ["path_create_directory", [3, 0, 0], 58], ["path_filestat_set_times", [3, 0, 0, 0, 0n, 0n, 0], 58],
    ["path_link", [3, 0, 0, 0, 3, 0], 58], ["path_remove_directory", [3, 0, 0], 58], ["path_rename", [3, 0, 0, 3, 0, 0], 58],
    ["path_symlink", [0, 0, 3, 0], 58], ["path_unlink_file", [3, 0, 0], 58], ["sock_shutdown", [3, 0], 58],
    ["fd_pwrite", [3, 0, 0, 0n, OUT], 8],
  ];
  for (const [name, args, errno] of rows) assert.equal(w[name](...args), errno, `${name}(${args.join(", ")})`);
  // Out-parameters the stubs zero before failing: fd_readdir (errno 20), path_readlink, sock_recv/send.
  poison();
  assert.equal(w.fd_readdir(3, 0, 0, 0n, OUT), 20);
  assert.equal(view.getUint32(OUT, true), 0);
  poison();
  assert.equal(w.path_readlink(3, 0, 0, 0, 0, OUT), 58);
  assert.equal(view.getUint32(OUT, true), 0);
  poison();
  assert.equal(w.sock_recv(3, 0, 0, 0, OUT, OUT + 4), 58);
  assert.deepEqual([view.getUint32(OUT, true), view.getUint16(OUT + 4, true)], [0, 0]);
  // fd_tell on stdout writes offset 0 (8 bytes); sock_accept zeroes 8 bytes upstream, 4 in Higress's fork.
  poison();
  assert.equal(w.fd_tell(1, OUT), 0);
  assert.equal(view.getBigUint64(OUT, true), 0n);
  assert.equal(w.fd_tell(3, OUT), 8);
  poison();
  assert.equal(w.sock_accept(3, 0, OUT), 58);
  assert.equal(view.getBigUint64(OUT, true), 0n);
  poison();
  assert.equal(calls("higress").sock_accept(3, 0, OUT), 58);
  assert.deepEqual([view.getUint32(OUT, true), view.getUint32(OUT + 4, true)], [0, 0xeeeeeeee]);
  // An out-parameter past the end of memory is EFAULT.
  assert.equal(w.fd_tell(1, memory.buffer.byteLength - 4), 21);
  assert.equal(w.poll_oneoff(0, 0, 1, memory.buffer.byteLength), 21);
  assert.equal(w.random_get(memory.buffer.byteLength - 8, 16), 21);
});
