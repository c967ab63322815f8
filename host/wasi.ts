/**
 * The WASI preview1 calls Envoy answers, answered the way proxy-wasm-cpp-host's exports.cc does
 * (wasi_unstable_* functions, registered under both wasi_snapshot_preview1 and wasi_unstable).
 * There is no file system, no socket and no sleep behind them: stdout and stderr go to the log and
 * everything else is a fixed answer, which is what lets Go's wasip1 runtime start (it stops its
 * preopen scan at EBADF, ignores fd_fdstat_set_flags' failure and only needs poll_oneoff to succeed).
 */
import type { HostMode } from "./stream-api.ts";

/** WASI errno values returned by proxy-wasm-cpp-host. */
const SUCCESS = 0;
const BADF = 8;
// exports.cc's fd_readdir comments this as ENOTDIR, but 20 is EEXIST in WASI's numbering (ENOTDIR is
// 54); Envoy answers 20, so do we.
const READDIR_ERRNO = 20;
const FAULT = 21;
const INVAL = 28;
const NOENT = 44;
const NOSYS = 52;
const NOTSUP = 58;

/** PROXY_WASM_HOST_WASI_RANDOM_GET_MAX_SIZE_BYTES (limits.h). */
const RANDOM_GET_MAX = 64 * 1024;
/** __WASI_RIGHTS_FD_WRITE, the only right fd_fdstat_get reports for stdout and stderr. */
const RIGHTS_FD_WRITE = 64n;

/**
 * The WASI calls allowed while the VM starts (`_initialize`, `main`, `_start`), from
 * WasmBase::startVm's restricted-callback list (the same in upstream and Higress's fork). fd_read,
 * fd_seek, fd_close, path_open, sched_yield and proc_exit are missing from it, so they trap there.
 */
export const WASI_ALLOWED_AT_START: ReadonlySet<string> = new Set([
  "fd_write", "args_sizes_get", "args_get", "environ_sizes_get", "environ_get",
  "clock_time_get", "clock_res_get", "random_get", "poll_oneoff", "fd_fdstat_get", "fd_fdstat_set_flags",
  "fd_advise", "fd_allocate", "fd_datasync", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
  "fd_filestat_set_times", "fd_pread", "fd_prestat_dir_name", "fd_prestat_get", "fd_pwrite", "fd_readdir",
  "fd_renumber", "fd_sync", "fd_tell", "path_create_directory", "path_filestat_get", "path_filestat_set_times",
  "path_link", "path_readlink", "path_remove_directory", "path_rename", "path_symlink", "path_unlink_file",
  "sock_accept", "sock_recv", "sock_send", "sock_shutdown",
]);

export interface WasiHost {
  readonly mode: HostMode;
  memory(): WebAssembly.Memory;
  /** Envoy's log at a proxy_log level, filtered by the log level as proxy_log is. */
  log(level: number, message: string): void;
  /** The VM's environment (Envoy's vm_config.environment_variables), in order. */
  readonly env: ReadonlyArray<[string, string]>;
}

/** Writes into guest memory; each write says whether it fitted (a miss is EFAULT for most calls). */
class Guest {
  constructor(private readonly memory: WebAssembly.Memory) {}
  fits(ptr: number, len: number): boolean {
    return ptr + len <= this.memory.buffer.byteLength;
  }
  bytes(ptr: number, data: Uint8Array): boolean {
    if (!this.fits(ptr, data.length)) return false;
    new Uint8Array(this.memory.buffer).set(data, ptr);
    return true;
  }
  u16(ptr: number, value: number): boolean {
    return this.fits(ptr, 2) && (new DataView(this.memory.buffer).setUint16(ptr, value, true), true);
  }
  u32(ptr: number, value: number): boolean {
    return this.fits(ptr, 4) && (new DataView(this.memory.buffer).setUint32(ptr, value >>> 0, true), true);
  }
  u64(ptr: number, value: bigint): boolean {
    return this.fits(ptr, 8) && (new DataView(this.memory.buffer).setBigUint64(ptr, value, true), true);
  }
  readU32(ptr: number): number | null {
    return this.fits(ptr, 4) ? new DataView(this.memory.buffer).getUint32(ptr, true) : null;
  }
  read(ptr: number, len: number): Uint8Array | null {
    return this.fits(ptr, len) ? new Uint8Array(this.memory.buffer).slice(ptr, ptr + len) : null;
  }
}

/** An out-parameter write: SUCCESS, or FAULT when it misses memory. */
const wrote = (ok: boolean) => (ok ? SUCCESS : FAULT);
const stdio = (fd: number) => fd === 1 || fd === 2;
/** The answer of the calls that pretend to work on stdout and stderr and know no other fd. */
const stdioOnly = (fd: number) => (stdio(fd >>> 0) ? SUCCESS : BADF);

/**
 * writevImpl: stdout to info, stderr to error, every other fd EBADF; the iovecs are joined and
 * one trailing newline dropped, but the count written includes it. Nothing is logged for no bytes.
 */
function writev(host: WasiHost, fd: number, iovs: number, count: number): { errno: number; written: number } {
  if (!stdio(fd)) return { errno: BADF, written: 0 };
  const guest = new Guest(host.memory());
  const parts: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const buf = guest.readU32(iovs + 8 * k);
    const len = guest.readU32(iovs + 8 * k + 4);
    if (buf === null || len === null) return { errno: FAULT, written: 0 };
    if (len === 0) continue;
    const part = guest.read(buf, len);
    if (part === null) return { errno: FAULT, written: 0 };
    parts.push(part);
  }
  const text = Buffer.concat(parts);
  if (text.length > 0) host.log(fd === 1 ? 2 : 4, text.toString("utf8").replace(/\n$/, ""));
  return { errno: SUCCESS, written: text.length };
}

/** "KEY=VALUE\0" per variable, as environ_get lays them out. */
const environEntries = (host: WasiHost) => host.env.map(([k, v]) => Buffer.from(`${k}=${v}\0`, "utf8"));

/** The host functions by WASI name. Arguments arrive as JS numbers (i32, signed) or bigints (i64). */
export function wasiCalls(host: WasiHost): Record<string, (...args: any[]) => number | void> {
  const guest = () => new Guest(host.memory());
  // exports.cc's error() calls end up in Envoy's Context::error, a trace line of Envoy's own log.
  const trace = (message: string) => host.log(0, message);
  return {
    fd_write: (fd: number, iovs: number, count: number, writtenOut: number) => {
      const { errno, written } = writev(host, fd >>> 0, iovs >>> 0, count >>> 0);
      return errno !== SUCCESS ? errno : wrote(guest().u32(writtenOut >>> 0, written));
    },
    fd_pwrite: (fd: number, iovs: number, count: number, _offset: bigint, writtenOut: number) => {
      const { errno, written } = writev(host, fd >>> 0, iovs >>> 0, count >>> 0);
      return errno !== SUCCESS ? errno : wrote(guest().u32(writtenOut >>> 0, written));
    },
    fd_read: () => NOSYS,
    fd_pread: () => NOSYS,
    fd_seek: () => (trace("wasi_unstable fd_seek"), SUCCESS),
    fd_close: () => (trace("wasi_unstable fd_close"), SUCCESS),
    fd_fdstat_get: (fd: number, statOut: number) => {
      if (!stdio(fd >>> 0)) return BADF;
      // filetype 0 and no flags, fs_rights_base FD_WRITE, no inheriting rights; Envoy ignores a
      // write that misses memory and still answers success.
      const stat = new Uint8Array(24);
      new DataView(stat.buffer).setBigUint64(8, RIGHTS_FD_WRITE, true);
      guest().bytes(statOut >>> 0, stat);
      return SUCCESS;
    },
    fd_fdstat_set_flags: () => NOSYS,
    fd_fdstat_set_rights: stdioOnly,
    fd_advise: () => SUCCESS,
    fd_allocate: stdioOnly,
    fd_datasync: stdioOnly,
    fd_sync: stdioOnly,
    fd_filestat_set_size: stdioOnly,
    fd_filestat_set_times: stdioOnly,
    fd_filestat_get: () => BADF,
    fd_prestat_get: () => BADF,
    fd_prestat_dir_name: () => NOSYS,
    fd_readdir: (_fd: number, _buf: number, _len: number, _cookie: bigint, readOut: number) =>
      guest().u32(readOut >>> 0, 0) ? READDIR_ERRNO : FAULT,
    fd_renumber: (fd: number, to: number) => (stdio(fd >>> 0) && stdio(to >>> 0) ? NOTSUP : BADF),
    fd_tell: (fd: number, offsetOut: number) => (stdio(fd >>> 0) ? wrote(guest().u64(offsetOut >>> 0, 0n)) : BADF),
    path_open: () => NOENT,
    path_filestat_get: () => NOTSUP,
    path_create_directory: () => NOTSUP,
    path_filestat_set_times: () => NOTSUP,
    path_link: () => NOTSUP,
    path_readlink: (_fd: number, _p: number, _pl: number, _buf: number, _bl: number, usedOut: number) =>
      guest().u32(usedOut >>> 0, 0) ? NOTSUP : FAULT,
    path_remove_directory: () => NOTSUP,
    path_rename: () => NOTSUP,
    path_symlink: () => NOTSUP,
    path_unlink_file: () => NOTSUP,
    // Upstream writes a 64-bit zero as the accepted fd, Higress's fork a 32-bit one.
    sock_accept: (_fd: number, _flags: number, fdOut: number) =>
      (host.mode === "higress" ? guest().u32(fdOut >>> 0, 0) : guest().u64(fdOut >>> 0, 0n)) ? NOTSUP : FAULT,
    sock_recv: (_fd: number, _d: number, _dl: number, _flags: number, sizeOut: number, flagsOut: number) =>
      guest().u32(sizeOut >>> 0, 0) && guest().u16(flagsOut >>> 0, 0) ? NOTSUP : FAULT,
    sock_send: (_fd: number, _d: number, _dl: number, _flags: number, sizeOut: number) =>
      guest().u32(sizeOut >>> 0, 0) ? NOTSUP : FAULT,
    sock_shutdown: () => NOTSUP,
    environ_sizes_get: (countOut: number, sizeOut: number) => {
      const entries = environEntries(host);
      if (!guest().u32(countOut >>> 0, entries.length)) return FAULT;
      return wrote(guest().u32(sizeOut >>> 0, entries.reduce((sum, e) => sum + e.length, 0)));
    },
    environ_get: (arrayOut: number, bufOut: number) => {
      let array = arrayOut >>> 0;
      let buf = bufOut >>> 0;
      for (const entry of environEntries(host)) {
        if (!guest().u32(array, buf) || !guest().bytes(buf, entry)) return FAULT;
        array += 4;
        buf += entry.length;
      }
      return SUCCESS;
    },
    args_sizes_get: (countOut: number, sizeOut: number) =>
      guest().u32(countOut >>> 0, 0) && guest().u32(sizeOut >>> 0, 0) ? SUCCESS : FAULT,
    args_get: () => SUCCESS,
    clock_time_get: (id: number, _precision: bigint, timeOut: number) => {
      const now = clockNow(id >>> 0);
      return now === null ? NOTSUP : wrote(guest().u64(timeOut >>> 0, now));
    },
    clock_res_get: (id: number, resOut: number) => ((id >>> 0) > 1 ? NOTSUP : wrote(guest().u64(resOut >>> 0, 1n))),
    random_get: (ptr: number, len: number) => {
      if ((len >>> 0) > RANDOM_GET_MAX) return INVAL;
      if ((len >>> 0) === 0) return SUCCESS;
      return wrote(guest().bytes(ptr >>> 0, crypto.getRandomValues(new Uint8Array(len >>> 0))));
    },
    sched_yield: () => SUCCESS,
    // Envoy does not poll or sleep: it reports no events at once, and Go's runtime only needs the
    // success (os_wasip1.go throws otherwise).
    poll_oneoff: (_in: number, _out: number, _n: number, eventsOut: number) => wrote(guest().u32(eventsOut >>> 0, 0)),
    // Envoy writes a trace line and returns: the module goes on running.
    proc_exit: () => void trace("wasi_unstable proc_exit"),
  };
}

/** Realtime (0) and monotonic (1) in nanoseconds; the CPU-time clocks are not supported. */
function clockNow(id: number): bigint | null {
  if (id === 0) return BigInt(Date.now()) * 1_000_000n;
  if (id === 1) return process.hrtime.bigint();
  return null;
}
