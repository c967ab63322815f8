/**
 * The seam between the HTTP gateway (gateway.ts) and the Wasm filter chain (the VM side of the host).
 * The gateway turns real HTTP into these calls; the filter chain runs the plugins with Envoy's semantics.
 * Header names are lower-case; request headers carry :authority, :path, :method, :scheme; response
 * headers carry :status.
 */

export type HeaderList = Array<[string, string]>;

export type HostMode = "envoy" | "higress";

/** What Envoy knows about a stream before the filters run; read by plugins as properties. */
export interface StreamInfo {
  /** Name of the matched route (property `route_name`); null when no route matched. */
  routeName: string | null;
  /** Upstream cluster of the matched route (property `cluster_name`), e.g. `outbound|80||llm.static`. */
  clusterName: string | null;
  /** Client "ip:port" (property `source.address`). */
  sourceAddress: string;
  /** Listener "ip:port" (property `destination.address`). */
  destinationAddress: string;
  /** "HTTP/1.1" or "HTTP/2" (property `request.protocol`). */
  protocol: string;
}

/** The router end of the chain: receives what passes every decoder. Implemented by the gateway. */
export interface UpstreamHandler {
  onRequestHeaders(headers: HeaderList, endStream: boolean): void;
  onRequestData(data: Uint8Array, endStream: boolean): void;
  onRequestTrailers(trailers: HeaderList): void;
  /** The chain answered locally or was reset: drop any upstream request in flight. */
  onCancel(): void;
}

/** The client end of the chain: receives what passes every encoder. Implemented by the gateway. */
export interface DownstreamHandler {
  onResponseHeaders(headers: HeaderList, endStream: boolean): void;
  onResponseData(data: Uint8Array, endStream: boolean): void;
  onResponseTrailers(trailers: HeaderList): void;
  /** The stream was reset after response headers left (Envoy resets instead of replying). */
  onReset(reason: string): void;
  /** The stream ended, after the filters' on_log: what Envoy's access log prints. */
  onLog?(record: { requestHeaders: HeaderList; responseCode: number | null; filterState: Map<string, Uint8Array> }): void;
}

/** One HTTP stream through the chain. Decode calls come from the client, encode calls from the upstream. */
export interface FilterChainStream {
  decodeHeaders(headers: HeaderList, endStream: boolean): void;
  decodeData(data: Uint8Array, endStream: boolean): void;
  decodeTrailers(trailers: HeaderList): void;
  encodeHeaders(headers: HeaderList, endStream: boolean): void;
  encodeData(data: Uint8Array, endStream: boolean): void;
  encodeTrailers(trailers: HeaderList): void;
  /** Client disconnected or upstream failed: ends the stream (on_log → on_done → on_delete still run). */
  reset(reason: string): void;
}

export interface FilterChain {
  newStream(info: StreamInfo, upstream: UpstreamHandler, downstream: DownstreamHandler): FilterChainStream;
}

/** One plugin in a chain, in the Higress JSON config shape (global fields plus `_rules_`). */
export interface PluginSpec {
  name: string;
  /** Path to a .wasm file or its bytes. */
  wasm: string | Uint8Array;
  config: unknown;
  /** Plugins with the same vm_id and the same code share one VM, each with its own root context (as Envoy). */
  vmId?: string;
  /** The VM's environment variables (Envoy's vm_config.environment_variables.key_values), seen through WASI environ_*. */
  env?: Record<string, string>;
}

export interface LogEntry {
  level: number;
  plugin: string;
  message: string;
}

export interface MetricSample {
  /** Name as Envoy exposes it, e.g. `wasmcustom.route.aliyun...metric.token_ratelimit_count`. */
  name: string;
  type: "counter" | "gauge" | "histogram";
  value: number;
}

export interface ChainOptions {
  mode: HostMode;
  /** Redis clusters for proxy_redis_* (Higress mode); see redis-bridge.ts. */
  redis?: import("./redis-bridge.ts").RedisBridge;
  /** Envoy log level seen by proxy_get_log_level (0 trace … 6 off); default 1 (debug). */
  logLevel?: number;
  /** Reproduce Envoy 1.27's buffered-body bug (the current chunk missing); default false. */
  legacyBodyBuffering?: boolean;
}

/** A loaded chain: what `createFilterChain(plugins, options)` (the VM side) resolves to. */
export interface LoadedChain extends FilterChain {
  logs(): LogEntry[];
  metrics(): MetricSample[];
  /** True once any plugin's VM has trapped (its streams then get 503). */
  failed(): boolean;
  close(): Promise<void>;
}

/** Rejection of a module or configuration, with Envoy's message. */
export class PluginLoadError extends Error {}
