/**
 * A step-by-step driver for host and plugin tests (the proxytest idea): one chain, streams you feed
 * frame by frame, and records of what reached the upstream and the client.
 */
import { createFilterChain, type WasmChain } from "./chain.ts";
import type { HeaderList, HostMode, LogEntry, PluginSpec, StreamInfo } from "./stream-api.ts";
import type { RedisBridge } from "./redis-bridge.ts";

export interface HostOptions {
  wasm: string | Uint8Array;
  config?: unknown;
  name?: string;
  /** Shares the VM with later plugins of the same vmId and code (see PluginSpec). */
  vmId?: string;
  /** The VM's environment variables (see PluginSpec). */
  env?: Record<string, string>;
  mode?: HostMode;
  redis?: RedisBridge;
  logLevel?: number;
  legacyBodyBuffering?: boolean;
  /** More plugins after the first, in filter order. */
  more?: PluginSpec[];
}

export interface Recorded {
  headers: HeaderList | null;
  chunks: Buffer[];
  trailers: HeaderList | null;
  ended: boolean;
}

export class DirectStream {
  readonly upstream: Recorded & { cancelled: boolean } = { headers: null, chunks: [], trailers: null, ended: false, cancelled: false };
  readonly downstream: Recorded & { reset: string | null } = { headers: null, chunks: [], trailers: null, ended: false, reset: null };
  readonly stream;

  constructor(chain: WasmChain, info: StreamInfo) {
    const up = this.upstream;
    const down = this.downstream;
    this.stream = chain.newStream(info, {
      onRequestHeaders: (h, eos) => ((up.headers = h.map(([k, v]) => [k, v])), (up.ended = eos)),
      onRequestData: (d, eos) => (up.chunks.push(Buffer.from(d)), (up.ended = eos)),
      onRequestTrailers: (t) => ((up.trailers = t.map(([k, v]) => [k, v])), (up.ended = true)),
      onCancel: () => (up.cancelled = true),
    }, {
      onResponseHeaders: (h, eos) => ((down.headers = h.map(([k, v]) => [k, v])), (down.ended = eos)),
      onResponseData: (d, eos) => (down.chunks.push(Buffer.from(d)), (down.ended = eos)),
      onResponseTrailers: (t) => ((down.trailers = t.map(([k, v]) => [k, v])), (down.ended = true)),
      onReset: (reason) => ((down.reset = reason), (down.ended = true)),
    });
  }

  sendRequestHeaders(headers: HeaderList, endStream = false): this {
    this.stream.decodeHeaders(headers.map(([k, v]) => [k.toLowerCase(), v]), endStream);
    return this;
  }
  sendRequestBody(data: string | Uint8Array, endStream = false): this {
    this.stream.decodeData(typeof data === "string" ? Buffer.from(data) : data, endStream);
    return this;
  }
  sendRequestTrailers(trailers: HeaderList): this {
    this.stream.decodeTrailers(trailers);
    return this;
  }
  sendResponseHeaders(headers: HeaderList, endStream = false): this {
    this.stream.encodeHeaders(headers.map(([k, v]) => [k.toLowerCase(), v]), endStream);
    return this;
  }
  sendResponseBody(data: string | Uint8Array, endStream = false): this {
    this.stream.encodeData(typeof data === "string" ? Buffer.from(data) : data, endStream);
    return this;
  }
  sendResponseTrailers(trailers: HeaderList): this {
    this.stream.encodeTrailers(trailers);
    return this;
  }
  reset(reason = "client disconnected"): this {
    this.stream.reset(reason);
    return this;
  }

  /** Resolves once the request has reached the upstream whole or been answered locally (a Redis check may hold it for a few turns). */
  async decided(): Promise<void> {
    while (!this.upstream.ended && this.response() === null) await new Promise((r) => setImmediate(r));
  }

  /** Status, headers and body the client received (a local reply or the upstream's answer). */
  response(): { status: number; headers: HeaderList; body: string } | null {
    const h = this.downstream.headers;
    if (!h) return null;
    return { status: Number(h.find(([k]) => k === ":status")?.[1]), headers: h, body: Buffer.concat(this.downstream.chunks).toString("utf8") };
  }
  upstreamBody(): string {
    return Buffer.concat(this.upstream.chunks).toString("utf8");
  }
  upstreamHeader(name: string): string[] {
    return (this.upstream.headers ?? []).filter(([k]) => k === name).map(([, v]) => v);
  }
}

export const DEFAULT_INFO: StreamInfo = {
  routeName: "test-route",
  clusterName: "outbound|80||upstream.static",
  sourceAddress: "127.0.0.1:50000",
  destinationAddress: "127.0.0.1:10000",
  protocol: "HTTP/1.1",
};

export interface Host {
  chain: WasmChain;
  newStream(info?: Partial<StreamInfo>): DirectStream;
  logs(minLevel?: number): LogEntry[];
  metric(name: string): number | undefined;
}

/** Loads the plugin(s); rejects with PluginLoadError like Envoy refusing the module or config. */
export async function createHost(options: HostOptions): Promise<Host> {
  const plugins: PluginSpec[] = [{ name: options.name ?? "probe", wasm: options.wasm, config: options.config ?? {}, vmId: options.vmId, env: options.env }, ...(options.more ?? [])];
  const chain = await createFilterChain(plugins, {
    mode: options.mode ?? "higress",
    redis: options.redis,
    logLevel: options.logLevel,
    legacyBodyBuffering: options.legacyBodyBuffering,
  });
  return {
    chain,
    newStream: (info) => new DirectStream(chain, { ...DEFAULT_INFO, ...info }),
    logs: (minLevel = 0) => chain.logs().filter((l) => l.level >= minLevel),
    metric: (name) => chain.metrics().find((m) => m.name === name)?.value,
  };
}

export const GET = (path = "/", extra: HeaderList = []): HeaderList => [
  [":authority", "example.com"], [":path", path], [":method", "GET"], [":scheme", "http"], ...extra,
];
