/**
 * Replays what a Go wasip1 module (Higress's Go plugins, `go build -buildmode=c-shared`) asks of
 * WASI before and just after it starts, in Go's order, and checks each answer the way Go does: where
 * Go throws, the probe writes "fatal error: …" to stderr and traps, so a host that answers wrongly
 * fails the VM as it would fail a Go plugin. Every answer is recorded and logged at info, one
 * "wasip1 …" line each, from on_configure (during _initialize only proxy_log and some WASI calls are
 * allowed, and the SDK's logging reads the log level first).
 *
 * Go's order: runtime schedinit (nanotime, randinit, goargs, goenvs), then package inits (syscall's
 * SetNonblock on 0/1/2 and its preopen scan from fd 3, os.NewFile's F_GETFL on 0/1/2), the
 * scheduler's sleep (usleep / netpoll: poll_oneoff with one clock subscription), a write to
 * stderr; later, in callbacks, notetsleepg's sched_yield and the file calls a plugin might make.
 */
export * from "../../shared/abi/exports";
import { RootContext, setRootContextFactory, logInfo } from "../../shared/index";

@external("wasi_snapshot_preview1", "clock_time_get")
declare function clock_time_get(id: u32, precision: u64, time: usize): u32;
@external("wasi_snapshot_preview1", "clock_res_get")
declare function clock_res_get(id: u32, resolution: usize): u32;
@external("wasi_snapshot_preview1", "random_get")
declare function random_get(buf: usize, len: u32): u32;
@external("wasi_snapshot_preview1", "args_sizes_get")
declare function args_sizes_get(argc: usize, bufLen: usize): u32;
@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function environ_sizes_get(count: usize, bufLen: usize): u32;
@external("wasi_snapshot_preview1", "environ_get")
declare function environ_get(environ: usize, buf: usize): u32;
@external("wasi_snapshot_preview1", "fd_fdstat_get")
declare function fd_fdstat_get(fd: u32, stat: usize): u32;
@external("wasi_snapshot_preview1", "fd_fdstat_set_flags")
declare function fd_fdstat_set_flags(fd: u32, flags: u32): u32;
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: u32, prestat: usize): u32;
@external("wasi_snapshot_preview1", "poll_oneoff")
declare function poll_oneoff(subs: usize, events: usize, count: u32, nevents: usize): u32;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, count: u32, written: usize): u32;
@external("wasi_snapshot_preview1", "sched_yield")
declare function sched_yield(): u32;
@external("wasi_snapshot_preview1", "path_open")
declare function path_open(fd: u32, dirFlags: u32, path: usize, pathLen: u32, oflags: u32, rightsBase: u64, rightsInheriting: u64, fdFlags: u32, fdOut: usize): u32;
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, count: u32, read: usize): u32;
@external("wasi_snapshot_preview1", "fd_seek")
declare function fd_seek(fd: u32, offset: i64, whence: u32, newOffset: usize): u32;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u32;
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

const EBADF: u32 = 8;
const ENOTDIR: u32 = 54;
const FDFLAG_NONBLOCK: u32 = 4;
/** A value no host writes, so the test sees which out-parameters the host left alone. */
const UNTOUCHED: u64 = 0xa5a5a5a5a5a5a5a5;

const scratch = memory.data(128);
const results: string[] = [];

function record(line: string): void {
  results.push(line);
}

function fill(ptr: usize, bytes: usize): void {
  for (let k: usize = 0; k < bytes; k += 8) store<u64>(ptr + k, UNTOUCHED);
}

function writeStderr(text: string): u32 {
  const bytes = String.UTF8.encode(text);
  store<u32>(scratch, changetype<usize>(bytes));
  store<u32>(scratch + 4, bytes.byteLength);
  store<u32>(scratch + 8, 0xffffffff);
  return fd_write(2, scratch, 1, scratch + 8);
}

/** Go's throw: the message goes to stderr and the module stops. */
function fatal(what: string): void {
  writeStderr("fatal error: " + what + "\n");
  unreachable();
}

/** nanotime1 / walltime1: Go throws on any errno. */
function clock(id: u32, name: string): void {
  fill(scratch, 8);
  const errno = clock_time_get(id, 0, scratch);
  if (errno != 0) fatal("clock_time_get failed");
  record(name + " errno=" + errno.toString() + " ns=" + load<u64>(scratch).toString());
}

/** randinit reads a 32-byte seed; a failure or all zeros makes Go fall back to time-based bytes. */
function randomSeed(): void {
  const seed = memory.data(32);
  const errno = random_get(seed, 32);
  let allZero = true;
  for (let k = 0; k < 32; k++) if (load<u8>(seed + k) != 0) allZero = false;
  record("random_get len=32 errno=" + errno.toString() + " allZero=" + (allZero ? "yes" : "no"));
}

/** goargs / goenvs: the sizes calls throw on any errno, and environ_get runs only for a non-empty environment. */
function argsAndEnviron(): void {
  fill(scratch, 8);
  if (args_sizes_get(scratch, scratch + 4) != 0) fatal("args_sizes_get failed");
  record("args_sizes_get argc=" + load<u32>(scratch).toString() + " bufLen=" + load<u32>(scratch + 4).toString());
  fill(scratch, 8);
  if (environ_sizes_get(scratch, scratch + 4) != 0) fatal("environ_sizes_get failed");
  const count = load<u32>(scratch);
  const bufLen = load<u32>(scratch + 4);
  record("environ_sizes_get count=" + count.toString() + " bufLen=" + bufLen.toString());
  if (count == 0) return;
  const pointers = new ArrayBuffer(<i32>count * 4);
  const buf = new ArrayBuffer(<i32>bufLen);
  const base = changetype<usize>(buf);
  if (environ_get(changetype<usize>(pointers), base) != 0) fatal("environ_get failed");
  for (let i: u32 = 0; i < count; i++) {
    // Go finds each variable from its pointer's offset into the buffer, up to the NUL.
    const start = <usize>load<u32>(changetype<usize>(pointers) + 4 * i);
    let end = start;
    while (end < base + bufLen && load<u8>(end) != 0) end++;
    record("environ_get " + String.UTF8.decodeUnsafe(start, end - start));
  }
}

/** fd_fdstat_get as Go reads it: filetype at 0, fdflags (u16) at 2, rights at 8 and 16. */
function fdstat(fd: u32, caller: string): u32 {
  fill(scratch, 24);
  const errno = fd_fdstat_get(fd, scratch);
  const head = caller + " fd_fdstat_get fd=" + fd.toString() + " errno=" + errno.toString();
  if (errno != 0) {
    record(head + " statUntouched=" + (load<u64>(scratch) == UNTOUCHED && load<u64>(scratch + 8) == UNTOUCHED ? "yes" : "no"));
    return errno;
  }
  record(head + " filetype=" + load<u8>(scratch).toString() + " flags=" + load<u16>(scratch + 2).toString() +
    " rightsBase=" + load<u64>(scratch + 8).toString() + " rightsInheriting=" + load<u64>(scratch + 16).toString());
  return errno;
}

/** syscall's first init: SetNonblock(fd, true) on stdio, errors ignored. */
function setNonblockStdio(): void {
  for (let fd: u32 = 0; fd < 3; fd++) {
    if (fdstat(fd, "SetNonblock") != 0) continue;
    const flags = <u32>load<u16>(scratch + 2) | FDFLAG_NONBLOCK;
    record("SetNonblock fd_fdstat_set_flags fd=" + fd.toString() + " errno=" + fd_fdstat_set_flags(fd, flags).toString());
  }
}

/** syscall's second init: fd_prestat_get from fd 3 until EBADF; anything else but a directory or ENOTDIR panics. */
function scanPreopens(): void {
  for (let fd: u32 = 3; fd < 64; fd++) {
    fill(scratch, 8);
    const errno = fd_prestat_get(fd, scratch);
    if (errno == EBADF) {
      record("fd_prestat_get stopped fd=" + fd.toString() + " errno=" + errno.toString());
      return;
    }
    if (errno == ENOTDIR || load<u8>(scratch) != 0) continue;
    if (errno != 0) fatal("fd_prestat: errno " + errno.toString());
    fatal("fd_prestat: a preopened directory at fd " + fd.toString() + ", which Envoy never offers");
  }
  fatal("fd_prestat_get never answered EBADF");
}

/** usleep and netpoll: one clock subscription (monotonic, 1 µs precision); Go throws on any errno. */
function sleepOnce(): void {
  const sub = memory.data(48);
  const event = memory.data(32);
  memory.fill(sub, 0, 48);
  store<u8>(sub + 8, 0); // eventtype clock
  store<u32>(sub + 16, 1); // clock id monotonic
  store<u64>(sub + 24, 1_000_000); // 1 ms
  store<u64>(sub + 32, 1_000); // precision
  fill(event, 32);
  store<u32>(scratch, 0xffff);
  const errno = poll_oneoff(sub, event, 1, scratch);
  if (errno != 0) fatal("wasi_snapshot_preview1.poll_oneoff");
  record("poll_oneoff errno=" + errno.toString() + " nevents=" + load<u32>(scratch).toString() +
    " eventUntouched=" + (load<u64>(event) == UNTOUCHED ? "yes" : "no"));
}

function startRuntime(): void {
  clock(1, "clock_time_get monotonic");
  randomSeed();
  argsAndEnviron();
  clock(0, "clock_time_get realtime");
  setNonblockStdio();
  scanPreopens();
  for (let fd: u32 = 0; fd < 3; fd++) fdstat(fd, "NewFile");
  sleepOnce();
  const text = "wasip1-startup: runtime started\n";
  const errno = writeStderr(text);
  if (errno != 0) fatal("fd_write failed");
  record("fd_write fd=2 errno=" + errno.toString() + " nwritten=" + load<u32>(scratch + 8).toString() + " of=" + text.length.toString());
}

/** What a started Go plugin may call from a callback: these are not allowed during start. */
function afterStart(): void {
  record("sched_yield errno=" + sched_yield().toString());
  const path = String.UTF8.encode("/etc/hosts");
  store<u32>(scratch, 0xffffffff);
  record("path_open errno=" + path_open(3, 0, changetype<usize>(path), path.byteLength, 0, 0, 0, 0, scratch).toString() +
    " fdUntouched=" + (load<u32>(scratch) == 0xffffffff ? "yes" : "no"));
  record("fd_read errno=" + fd_read(0, scratch, 0, scratch + 4).toString());
  fill(scratch, 8);
  record("fd_seek errno=" + fd_seek(1, 0, 0, scratch).toString() + " offsetUntouched=" + (load<u64>(scratch) == UNTOUCHED ? "yes" : "no"));
  record("fd_close errno=" + fd_close(1).toString());
  for (let id: u32 = 0; id < 4; id++) {
    fill(scratch, 8);
    const errno = clock_res_get(id, scratch);
    record("clock_res_get id=" + id.toString() + " errno=" + errno.toString() + (errno == 0 ? " ns=" + load<u64>(scratch).toString() : ""));
  }
  record("clock_time_get id=2 errno=" + clock_time_get(2, 0, scratch).toString());
  record("random_get len=65537 errno=" + random_get(scratch, 65537).toString());
  proc_exit(3);
  record("proc_exit returned");
}

startRuntime();

class StartupRoot extends RootContext {
  onVmStart(vmConfigSize: u32): bool {
    afterStart();
    return true;
  }
  onConfigure(configuration: ArrayBuffer | null): bool {
    for (let i = 0; i < results.length; i++) logInfo("wasip1 " + results[i]);
    return true;
  }
}

setRootContextFactory((id: u32): RootContext => new StartupRoot(id));
