/**
 * One plugin VM: instantiation, Envoy's start sequence, the call wrapper of proxy-wasm-abi.md §6.3
 * (current/effective context, trap → failed VM, deferred actions drained after the outermost call)
 * and the host calls that do not depend on a stream. Stream calls go to the context's StreamAccess.
 */
import { setFlagsFromString } from "node:v8";
import { checkModule, type AbiVersion } from "./loader.ts";
import { registeredImports } from "./abi-table.ts";
import { wasiCalls, WASI_ALLOWED_AT_START } from "./wasi.ts";
import { Status, type HeaderMapView, type StreamAccess } from "./status.ts";
import { decodePairs, encodePairs, encodePropertyPath, decodePropertyPath } from "./serde.ts";
import type { HostMode, LogEntry } from "./stream-api.ts";
import type { RedisBridge } from "./redis-bridge.ts";
import type { MetricRegistry } from "./metrics.ts";

export interface VmOptions {
  name: string;
  mode: HostMode;
  config: Uint8Array;
  logLevel: number;
  logs: LogEntry[];
  metrics: MetricRegistry;
  redis?: RedisBridge;
  /** The VM's environment variables (Envoy's vm_config.environment_variables), read through WASI environ_*. */
  env?: Record<string, string>;
}

interface ContextRecord {
  id: number;
  rootId: number;
  stream: StreamAccess | null;
  deleted: boolean;
}

/** Host calls allowed while the VM starts, as "module.name" (WasmBase::startVm); any other traps. */
const RESTRICTED_ALLOWED = new Set([
  "env.proxy_log",
  ...[...WASI_ALLOWED_AT_START].flatMap((name) => [`wasi_snapshot_preview1.${name}`, `wasi_unstable.${name}`]),
]);

const TRACE_LIMIT = 20000;

/** The parameter count of an abi-table signature "(i32,i32)->(i32)". */
function paramCount(signature: string): number {
  const params = signature.slice(1, signature.indexOf(")"));
  return params.length === 0 ? 0 : params.split(",").length;
}

/** Calls an export without spreading the arguments for the common arities. */
function invoke(fn: Function, args: number[]): unknown {
  switch (args.length) {
    case 0: return fn();
    case 1: return fn(args[0]);
    case 2: return fn(args[0], args[1]);
    case 3: return fn(args[0], args[1], args[2]);
    case 4: return fn(args[0], args[1], args[2], args[3]);
    default: return fn(...args);
  }
}

// Envoy's V8 compiles every module with TurboFan only: proxy-wasm-cpp-host turns Liftoff off
// (v8.cc, engine()). Node's default starts functions in Liftoff and tiers up only the hot ones,
// so code a request runs once would stay in baseline code here but never is in Envoy.
setFlagsFromString("--no-liftoff");

/** Thrown from a host function to trap the VM the way Envoy does. */
class HostTrap extends Error {}

export class WasmVm {
  readonly name: string;
  readonly abi: AbiVersion;
  failed = false;
  failure = "";
  rootId = 0;
  /** Milliseconds spent inside outermost calls into the module (host calls included), for the benchmark. */
  busyMs = 0;
  /** Of busyMs, the milliseconds spent in this host's own implementation of host calls. */
  hostMs = 0;
  /** Host calls made (and allocator calls inside them), each timed: the bench takes the clock's own cost out per timed call. */
  hostCallCount = 0;
  /** Outermost calls into the module, each timed. */
  outerCallCount = 0;
  /**
   * Called after each outermost call with the callback's name, its guest milliseconds (busy minus
   * host) and how many clock pairs timed it (the call itself and each host call it made).
   */
  onCallDone: ((name: string, guestMs: number, timings: number) => void) | null = null;
  /** Every host→VM call, for ordering assertions: [callback, context id, ...args]. */
  readonly trace: Array<[string, ...number[]]> = [];

  private instance!: WebAssembly.Instance;
  private exportsTable!: Record<string, Function>;
  private allocatorName: string;
  private nextContextId = 1;
  private contexts = new Map<number, ContextRecord>();
  private current = 0;
  private effective = 0;
  private depth = 0;
  private restricted = false;
  private deferred: Array<() => void> = [];
  private configBuffer: Uint8Array | null = null;
  private redisReply: Uint8Array | null = null;
  private lastStatus: [number, string] = [0, ""];
  private nextRedisToken = 7;
  private metricIds = new Map<number, { name: string; type: number }>();
  private metricCounts = [0, 0, 0];
  private opts: VmOptions;

  private constructor(opts: VmOptions, abi: AbiVersion, allocator: string) {
    this.opts = opts;
    this.name = opts.name;
    this.abi = abi;
    this.allocatorName = allocator;
  }

  /** Compiles, links and starts the VM, then creates and configures the root context. */
  static async load(bytes: Uint8Array, opts: VmOptions): Promise<WasmVm> {
    const checked = checkModule(bytes, opts.mode);
    const vm = new WasmVm(opts, checked.abi, checked.allocator);
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    vm.instance = await WebAssembly.instantiate(module, vm.importObject(opts.mode));
    vm.exportsTable = vm.instance.exports as unknown as Record<string, Function>;
    vm.start();
    return vm;
  }

  /** An export of the module as V8 compiled it, for tests that look at the compiled code. */
  exported(name: string): Function | undefined {
    return this.exportsTable[name];
  }

  get memory(): WebAssembly.Memory {
    return this.instance.exports.memory as WebAssembly.Memory;
  }

  /** Whether configure accepted the plugin; false also when the VM trapped during start. */
  configured = false;

  private start(): void {
    this.restricted = true;
    if (this.exportsTable._initialize) {
      this.call("_initialize", [], 0);
      if (this.exportsTable.main) this.call("main", [0, 0], 0);
    } else if (this.exportsTable._start) {
      this.call("_start", [], 0);
    }
    this.restricted = false;
    if (this.failed) return;
    this.rootId = this.addRoot(this.opts.config);
    this.configured = this.rootConfigured.get(this.rootId) ?? false;
  }

  /** Whether each root context's configure accepted its plugin config. */
  readonly rootConfigured = new Map<number, boolean>();

  /**
   * A root context with its own plugin config in this VM, as Envoy makes for every filter config
   * that shares the VM (same vm_id and code): on_context_create, on_vm_start, on_configure.
   * Returns its id; rootConfigured says whether configure accepted it.
   */
  addRoot(config: Uint8Array): number {
    const rootId = this.nextContextId++;
    this.rootConfigured.set(rootId, false);
    if (this.failed) return rootId;
    this.contexts.set(rootId, { id: rootId, rootId, stream: null, deleted: false });
    this.call("proxy_on_context_create", [rootId, 0], rootId);
    // Envoy treats a missing callback as success.
    const started = this.hasExport("proxy_on_vm_start") ? this.call("proxy_on_vm_start", [rootId, 0], rootId) : 1;
    if (this.failed || !started) {
      this.log(4, `Wasm VM failed to start: ${this.failed ? this.failure : "proxy_on_vm_start returned false"}`);
      return rootId;
    }
    this.configBuffer = config;
    const ok = this.hasExport("proxy_on_configure") ? this.call("proxy_on_configure", [rootId, config.length], rootId) : 1;
    this.configBuffer = null;
    const configured = !this.failed && ok !== 0 && ok !== undefined;
    this.rootConfigured.set(rootId, configured);
    if (!configured) this.log(4, `Wasm VM failed to initialize Wasm code: plugin ${this.name} configuration rejected`);
    return rootId;
  }

  /** A new stream context under a root (the first by default); the caller then calls proxy_on_request_headers. */
  createStream(stream: StreamAccess, rootId = this.rootId): number {
    const id = this.nextContextId++;
    this.contexts.set(id, { id, rootId, stream, deleted: false });
    this.call("proxy_on_context_create", [id, rootId], id);
    return id;
  }

  deleteContext(id: number): void {
    const record = this.contexts.get(id);
    if (record) record.deleted = true;
    this.contexts.delete(id);
  }

  hasExport(name: string): boolean {
    return typeof this.exportsTable[name] === "function";
  }

  /**
   * Calls into the module like Envoy: sets the current context, resets the effective one, turns a
   * trap into a failed VM, and drains deferred actions when the outermost call returns.
   * Returns the result as unsigned, or undefined when the VM trapped or the export is missing.
   */
  call(name: string, args: number[], contextId: number): number | undefined {
    if (this.failed) return undefined;
    const fn = this.exportsTable[name];
    if (typeof fn !== "function") return undefined;
    const saved = [this.current, this.effective];
    this.current = contextId;
    this.effective = 0;
    this.depth++;
    this.trace.push([name, ...args]);
    // Keep the trace bounded: a long-running gateway must not grow without end.
    if (this.trace.length > TRACE_LIMIT) this.trace.splice(0, this.trace.length - TRACE_LIMIT / 2);
    const outermost = this.depth === 1;
    const hostBefore = this.hostMs;
    const callsBefore = this.hostCallCount;
    let result: number | undefined;
    let started = 0;
    let ended = 0;
    try {
      started = outermost ? performance.now() : 0;
      const value = invoke(fn, args);
      ended = outermost ? performance.now() : 0;
      result = typeof value === "number" ? value >>> 0 : 0;
    } catch (e) {
      ended = outermost ? performance.now() : 0;
      this.fail(e as Error);
      result = undefined;
    } finally {
      [this.current, this.effective] = saved;
      this.depth--;
      if (outermost) {
        const busy = ended - started;
        this.busyMs += busy;
        this.outerCallCount++;
        this.onCallDone?.(name, busy - (this.hostMs - hostBefore), 1 + this.hostCallCount - callsBefore);
      }
    }
    return result;
  }

  /**
   * Runs the actions the plugin queued (local replies, continues) once its callback has returned
   * and the filter manager has applied the callback's status, as Envoy does.
   */
  drain(): void {
    while (this.deferred.length > 0) {
      const action = this.deferred.shift()!;
      action();
    }
  }

  /** Queues an action for drain(): Envoy defers replies and continues past the callback. */
  defer(action: () => void): void {
    this.deferred.push(action);
  }

  private fail(error: Error): void {
    this.failed = true;
    this.failure = error.message;
    this.deferred = [];
    this.log(5, `Wasm VM failed: ${error.message}`);
  }

  log(level: number, message: string): void {
    this.opts.logs.push({ level, plugin: this.name, message });
  }

  private context(): ContextRecord | undefined {
    return this.contexts.get(this.effective || this.current);
  }

  private stream(): StreamAccess | null {
    return this.context()?.stream ?? null;
  }

  private bytes(): Uint8Array {
    return new Uint8Array(this.memory.buffer);
  }

  private view(): DataView {
    return new DataView(this.memory.buffer);
  }

  private read(ptr: number, len: number): Uint8Array {
    ptr >>>= 0;
    len >>>= 0;
    if (ptr + len > this.memory.buffer.byteLength) throw new RangeError("out of bounds");
    return this.bytes().slice(ptr, ptr + len);
  }

  private readString(ptr: number, len: number): string {
    return Buffer.from(this.read(ptr, len)).toString("utf8");
  }

  private inBounds(ptr: number, len: number): boolean {
    return (ptr >>> 0) + (len >>> 0) <= this.memory.buffer.byteLength;
  }

  /** Copies a blob into memory from the module's allocator and writes (ptr, size); empty → (0, 0). */
  private writeBlob(data: Uint8Array, ptrOut: number, sizeOut: number): Status {
    let ptr = 0;
    if (data.length > 0) {
      const alloc = this.exportsTable[this.allocatorName];
      // The allocator runs guest code inside a host call: its time is the module's, not the host's.
      const started = performance.now();
      ptr = (alloc(data.length) as number) >>> 0;
      this.hostMs -= performance.now() - started;
      this.hostCallCount++;
      if (ptr === 0 || !this.inBounds(ptr, data.length)) return Status.InvalidMemoryAccess;
      this.bytes().set(data, ptr);
    }
    if (!this.inBounds(ptrOut, 4) || !this.inBounds(sizeOut, 4)) return Status.InvalidMemoryAccess;
    const view = this.view();
    view.setUint32(ptrOut >>> 0, ptr, true);
    view.setUint32(sizeOut >>> 0, data.length, true);
    return Status.Ok;
  }

  private writeU32(ptr: number, value: number): Status {
    if (!this.inBounds(ptr, 4)) return Status.InvalidMemoryAccess;
    this.view().setUint32(ptr >>> 0, value >>> 0, true);
    return Status.Ok;
  }

  private writeU64(ptr: number, value: bigint): Status {
    if (!this.inBounds(ptr, 8)) return Status.InvalidMemoryAccess;
    this.view().setBigUint64(ptr >>> 0, value, true);
    return Status.Ok;
  }

  private importObject(mode: HostMode): WebAssembly.Imports {
    const modules: Record<string, Record<string, Function>> = { env: {}, wasi_snapshot_preview1: {}, wasi_unstable: {} };
    const impl = this.hostCalls();
    const wasiImpl = wasiCalls({
      mode,
      memory: () => this.memory,
      log: (level, message) => level >= this.opts.logLevel && this.log(level, message),
      env: Object.entries(this.opts.env ?? {}),
    });
    for (const [key, signature] of registeredImports(mode)) {
      const [module, name] = key.split(".");
      const fn = (module === "env" ? impl[name] : wasiImpl[name]) ?? (() => Status.Unimplemented);
      modules[module][name] = this.timedHostCall(key, fn, paramCount(signature));
    }
    return modules;
  }

  /**
   * A host call as the module sees it: refused while the VM starts unless Envoy allows it there,
   * and timed into hostMs, the refusal check included (it is the host's work). One wrapper per
   * arity, without rest arguments, so that the wrapper itself costs next to nothing of what the
   * bench counts as guest time.
   */
  private timedHostCall(key: string, fn: Function, params: number): Function {
    const allowedAtStart = RESTRICTED_ALLOWED.has(key);
    const name = key.slice(key.indexOf(".") + 1);
    const check = () => {
      if (this.restricted && !allowedAtStart) throw new HostTrap(`restricted_callback: ${name} called during VM start`);
    };
    const done = (started: number) => {
      this.hostMs += performance.now() - started;
      this.hostCallCount++;
    };
    type N = number;
    switch (params) {
      case 0: return () => { const t = performance.now(); check(); try { return fn(); } finally { done(t); } };
      case 1: return (a: N) => { const t = performance.now(); check(); try { return fn(a); } finally { done(t); } };
      case 2: return (a: N, b: N) => { const t = performance.now(); check(); try { return fn(a, b); } finally { done(t); } };
      case 3: return (a: N, b: N, c: N) => { const t = performance.now(); check(); try { return fn(a, b, c); } finally { done(t); } };
      case 4: return (a: N, b: N, c: N, d: N) => { const t = performance.now(); check(); try { return fn(a, b, c, d); } finally { done(t); } };
      case 5: return (a: N, b: N, c: N, d: N, e: N) => { const t = performance.now(); check(); try { return fn(a, b, c, d, e); } finally { done(t); } };
      default: return (...args: unknown[]) => { const t = performance.now(); check(); try { return fn(...args); } finally { done(t); } };
    }
  }

  private hostCalls(): Record<string, (...args: any[]) => number | void> {
    return {
      proxy_log: (level: number, ptr: number, len: number) => {
        if (level >>> 0 > 5) return Status.BadArgument;
        if (!this.inBounds(ptr, len)) return Status.InvalidMemoryAccess;
        if (level >= this.opts.logLevel) this.log(level, this.readString(ptr, len));
        return Status.Ok;
      },
      proxy_get_log_level: (out: number) => this.writeU32(out, this.opts.logLevel),
      proxy_get_current_time_nanoseconds: (out: number) => this.writeU64(out, BigInt(Date.now()) * 1_000_000n),
      proxy_set_tick_period_milliseconds: () => Status.Ok,
      proxy_get_buffer_bytes: (type: number, start: number, max: number, ptrOut: number, sizeOut: number) => {
        const data = this.bufferFor(type >>> 0);
        if (typeof data === "number") return data;
        const from = Math.min(start >>> 0, data.length);
        const to = Math.min(data.length, from + (max >>> 0));
        return this.writeBlob(data.subarray(from, to), ptrOut, sizeOut);
      },
      proxy_get_buffer_status: (type: number, sizeOut: number, flagsOut: number) => {
        const data = this.bufferFor(type >>> 0);
        if (typeof data === "number") return data;
        this.writeU32(flagsOut, 0);
        return this.writeU32(sizeOut, data.length);
      },
      proxy_set_buffer_bytes: (type: number, start: number, size: number, ptr: number, len: number) => {
        if (!this.inBounds(ptr, len)) return Status.InvalidMemoryAccess;
        const stream = this.stream();
        if ((type >>> 0) > 9) return Status.BadArgument;
        if (!stream || (type >>> 0) > 1) return Status.BadArgument;
        return stream.setBody(type >>> 0, start >>> 0, size >>> 0, this.read(ptr, len));
      },
      proxy_get_header_map_value: (type: number, kp: number, kl: number, ptrOut: number, sizeOut: number) => {
        if ((type >>> 0) > 7) return Status.BadArgument;
        const map = this.stream()?.headerMap(type >>> 0) ?? null;
        if (!map) return this.stream()?.inLogPhase() ? Status.NotFound : Status.BadArgument;
        const key = this.readString(kp, kl).toLowerCase();
        const hit = map.headers.find(([k]) => k === key);
        if (!hit) return Status.NotFound;
        return this.writeBlob(Buffer.from(hit[1], "utf8"), ptrOut, sizeOut);
      },
      proxy_get_header_map_pairs: (type: number, ptrOut: number, sizeOut: number) => {
        if ((type >>> 0) > 7) return Status.BadArgument;
        const map = this.stream()?.headerMap(type >>> 0) ?? null;
        return this.writeBlob(map && map.headers.length > 0 ? encodePairs(map.headers) : new Uint8Array(0), ptrOut, sizeOut);
      },
      proxy_set_header_map_pairs: (type: number, ptr: number, len: number) => {
        const map = this.writableMap(type);
        if (typeof map === "number") return map;
        if (!this.inBounds(ptr, len)) return Status.InvalidMemoryAccess;
        const pairs = decodePairs(this.read(ptr, len));
        map.headers.splice(0, map.headers.length, ...pairs.map(([k, v]) => [k.toLowerCase(), v] as [string, string]));
        return Status.Ok;
      },
      proxy_add_header_map_value: (type: number, kp: number, kl: number, vp: number, vl: number) => {
        const map = this.writableMap(type);
        if (typeof map === "number") return map;
        map.headers.push([this.readString(kp, kl).toLowerCase(), this.readString(vp, vl)]);
        return Status.Ok;
      },
      proxy_replace_header_map_value: (type: number, kp: number, kl: number, vp: number, vl: number) => {
        const map = this.writableMap(type);
        if (typeof map === "number") return map;
        const key = this.readString(kp, kl).toLowerCase();
        const kept = map.headers.filter(([k]) => k !== key);
        kept.push([key, this.readString(vp, vl)]);
        map.headers.splice(0, map.headers.length, ...kept);
        return Status.Ok;
      },
      proxy_remove_header_map_value: (type: number, kp: number, kl: number) => {
        const map = this.writableMap(type);
        if (typeof map === "number") return map;
        const key = this.readString(kp, kl).toLowerCase();
        const kept = map.headers.filter(([k]) => k !== key);
        map.headers.splice(0, map.headers.length, ...kept);
        return Status.Ok;
      },
      proxy_get_header_map_size: (type: number, out: number) => {
        if ((type >>> 0) > 7) return Status.BadArgument;
        const map = this.stream()?.headerMap(type >>> 0) ?? null;
        if (!map) return Status.BadArgument;
        const size = map.headers.reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
        return this.writeU32(out, size);
      },
      proxy_get_property: (pp: number, pl: number, ptrOut: number, sizeOut: number) => {
        if (!this.inBounds(pp, pl)) return Status.InvalidMemoryAccess;
        const path = decodePropertyPath(this.read(pp, pl));
        const value = this.property(path);
        if (value === null) return Status.NotFound;
        return this.writeBlob(value, ptrOut, sizeOut);
      },
      proxy_set_property: (pp: number, pl: number, vp: number, vl: number) => {
        const stream = this.stream();
        if (!stream) return Status.NotFound;
        if (!this.inBounds(pp, pl) || !this.inBounds(vp, vl)) return Status.InvalidMemoryAccess;
        stream.setFilterState(decodePropertyPath(this.read(pp, pl)).join("."), this.read(vp, vl));
        return Status.Ok;
      },
      proxy_continue_stream: (type: number) => {
        if ((type >>> 0) > 3) return Status.BadArgument;
        if ((type >>> 0) === 3) return Status.Unimplemented;
        const stream = this.stream();
        if (!stream || (type >>> 0) === 2) return Status.Ok;
        stream.onContinueCalled(type >>> 0);
        this.defer(() => stream.continueStream(type >>> 0));
        return Status.Ok;
      },
      proxy_close_stream: (type: number) => {
        const stream = this.stream();
        if (stream) this.defer(() => stream.closeStream(type >>> 0));
        return Status.Ok;
      },
      proxy_send_local_response: (code: number, dp: number, dl: number, bp: number, bl: number, hp: number, hl: number) => {
        const stream = this.stream();
        if (!stream) return Status.Ok;
        if (!this.inBounds(dp, dl) || !this.inBounds(bp, bl) || !this.inBounds(hp, hl)) return Status.InvalidMemoryAccess;
        if (!stream.claimLocalReply()) return Status.BadArgument;
        const details = this.readString(dp, dl).replace(/ /g, "_");
        const body = this.read(bp, bl);
        const headers = decodePairs(this.read(hp, hl));
        this.defer(() => stream.sendLocalReply(code >>> 0, details, body, headers));
        return Status.Ok;
      },
      proxy_set_effective_context: (id: number) => {
        const record = this.contexts.get(id >>> 0);
        if (!record || record.deleted) return Status.BadArgument;
        this.effective = id >>> 0;
        return Status.Ok;
      },
      proxy_done: () => Status.NotFound,
      proxy_get_status: (codeOut: number, ptrOut: number, sizeOut: number) => {
        this.writeU32(codeOut, this.lastStatus[0]);
        return this.writeBlob(Buffer.from(this.lastStatus[1]), ptrOut, sizeOut);
      },
      proxy_define_metric: (type: number, np: number, nl: number, out: number) => {
        if ((type >>> 0) > 2) return Status.BadArgument;
        const name = this.readString(np, nl);
        const id = ((++this.metricCounts[type >>> 0]) << 2) | (type >>> 0);
        this.metricIds.set(id, { name, type: type >>> 0 });
        this.opts.metrics.define(name, type >>> 0);
        return this.writeU32(out, id);
      },
      proxy_increment_metric: (id: number, delta: bigint) => {
        const metric = this.metricIds.get(id >>> 0);
        if (!metric) return Status.NotFound;
        if (metric.type === 2) return Status.BadArgument;
        if (metric.type === 0 && delta <= 0n) return Status.BadArgument;
        this.opts.metrics.add(metric.name, Number(delta));
        return Status.Ok;
      },
      proxy_record_metric: (id: number, value: bigint) => {
        const metric = this.metricIds.get(id >>> 0);
        if (!metric) return Status.NotFound;
        if (metric.type === 0) this.opts.metrics.add(metric.name, Number(BigInt.asUintN(64, value)));
        else this.opts.metrics.set(metric.name, Number(value));
        return Status.Ok;
      },
      proxy_get_metric: (id: number, out: number) => {
        const metric = this.metricIds.get(id >>> 0);
        if (!metric) return Status.NotFound;
        if (metric.type === 2) return Status.BadArgument;
        return this.writeU64(out, BigInt(Math.max(0, this.opts.metrics.get(metric.name))));
      },
      proxy_redis_init: (cp: number, cl: number, up: number, ul: number, pp: number, pl: number, timeout: number) => {
        if (!this.opts.redis) return Status.BadArgument;
        return this.opts.redis.init(this.readString(cp, cl), this.readString(up, ul), this.readString(pp, pl), timeout >>> 0);
      },
      proxy_redis_call: (cp: number, cl: number, qp: number, ql: number, tokenOut: number) => {
        if (!this.opts.redis) return Status.BadArgument;
        const token = this.nextRedisToken;
        const rootId = this.context()?.rootId ?? this.rootId;
        const status = this.opts.redis.call(this.readString(cp, cl), this.read(qp, ql), (replyStatus, reply) => {
          setImmediate(() => this.deliverRedis(rootId, token, replyStatus, reply));
        });
        if (status !== Status.Ok) return status;
        this.nextRedisToken += 4;
        return this.writeU32(tokenOut, token);
      },
    };
  }

  private deliverRedis(rootId: number, token: number, status: number, reply: Uint8Array): void {
    if (this.failed || !this.contexts.has(rootId)) return;
    this.redisReply = status === 0 ? reply : new Uint8Array(0);
    this.lastStatus = status === 0 ? [0, ""] : [Status.BrokenConnection, "reset"];
    this.call("proxy_on_redis_call_response", [rootId, token, status, status === 0 ? reply.length : 0], rootId);
    this.redisReply = null;
    this.lastStatus = [0, ""];
    this.drain();
  }

  private writableMap(type: number): HeaderMapView | Status {
    if ((type >>> 0) > 7) return Status.BadArgument;
    const map = this.stream()?.headerMap(type >>> 0) ?? null;
    if (!map || !map.writable) return Status.BadArgument;
    return map;
  }

  private bufferFor(type: number): Uint8Array | Status {
    switch (type) {
      case 0:
      case 1: {
        const body = this.stream()?.body(type) ?? null;
        return body ?? Status.NotFound;
      }
      case 6:
        return Status.NotFound;
      case 7:
        return this.configBuffer ?? Status.NotFound;
      case 9:
        return this.opts.mode === "higress" ? (this.redisReply ?? new Uint8Array(0)) : Status.BadArgument;
      case 2: case 3: case 4: case 5: case 8:
        return Status.NotFound;
      default:
        return Status.BadArgument;
    }
  }

  private property(path: string[]): Uint8Array | null {
    const [head] = path;
    if (head === "plugin_name") return Buffer.from(this.name);
    if (head === "plugin_root_id") return Buffer.from(this.name);
    if (head === "plugin_vm_id") return Buffer.from("");
    const stream = this.stream();
    return stream ? stream.property(path) : null;
  }
}

export { encodePropertyPath };
