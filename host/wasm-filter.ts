/**
 * One plugin on one stream: Envoy's Wasm context. Turns filter-manager calls into proxy_on_*
 * callbacks, maps their results to Envoy filter statuses, and answers the VM's stream host calls.
 */
import { Status, type HeaderMapView, type StreamAccess } from "./status.ts";
import { int64 } from "./serde.ts";
import type { WasmVm } from "./vm.ts";
import type { HeaderList, StreamInfo } from "./stream-api.ts";

export enum HeadersStatus {
  Continue,
  StopIteration,
  StopAllBuffer,
  StopAllWatermark,
}

export enum DataStatus {
  Continue,
  StopAndBuffer,
  StopAndWatermark,
  StopNoBuffer,
}

/** What the filter manager offers a filter (Envoy's decoder/encoder callbacks). */
export interface FilterCallbacks {
  readonly info: StreamInfo;
  readonly requestHeaders: HeaderList;
  readonly responseHeaders: HeaderList;
  readonly requestTrailers: HeaderList;
  readonly responseTrailers: HeaderList;
  /** The stream's filter state (`proxy_set_property`), one map shared by every filter on the stream, as Envoy's StreamInfo. */
  readonly filterState: Map<string, Uint8Array>;
  responseCode(): number | null;
  sendLocalReply(from: WasmFilter, status: number, details: string, body: Uint8Array, headers: HeaderList): void;
  continueDecoding(from: WasmFilter): void;
  continueEncoding(from: WasmFilter): void;
  resetStream(reason: string): void;
}

export class WasmFilter implements StreamAccess {
  contextId = 0;
  private requestHeadersLive = false;
  private responseHeadersLive = false;
  private requestTrailersLive = false;
  private responseTrailersLive = false;
  private logPhase = false;
  private localReplyClaimed = false;
  private replyInCallback = false;
  private liveBody: { type: number; data: Uint8Array } | null = null;

  /** `rootId`: the root context whose plugin config this filter runs (several may share a VM). */
  constructor(readonly vm: WasmVm, private readonly cb: FilterCallbacks, readonly rootId = vm.rootId) {}

  get failed(): boolean {
    return this.vm.failed || !(this.vm.rootConfigured.get(this.rootId) ?? false);
  }

  decodeHeaders(headers: HeaderList, endStream: boolean): HeadersStatus {
    if (this.failed) return this.failStream();
    this.contextId = this.vm.createStream(this, this.rootId);
    this.requestHeadersLive = true;
    const result = this.callback("proxy_on_request_headers", [headers.length, endStream ? 1 : 0]);
    return this.headersStatus(result);
  }

  decodeData(data: Uint8Array, endStream: boolean): { status: DataStatus; data: Uint8Array } {
    return this.bodyCallback(0, "proxy_on_request_body", data, endStream);
  }

  /** `buffered` is the body this filter had Envoy buffer: readable and writable during the call. */
  decodeTrailers(trailers: HeaderList, buffered: Uint8Array | null = null): { ok: boolean; body: Uint8Array | null } {
    this.requestTrailersLive = true;
    this.liveBody = buffered === null ? null : { type: 0, data: buffered };
    const result = this.callback("proxy_on_request_trailers", [trailers.length]);
    const body = this.liveBody === null ? null : this.liveBody.data;
    this.liveBody = null;
    this.requestTrailersLive = false;
    return { ok: result === 0, body };
  }

  encodeHeaders(headers: HeaderList, endStream: boolean): HeadersStatus {
    // No context (the stream never reached this plugin) or a failed VM: no callbacks at all.
    if (this.contextId === 0 || this.vm.failed) return HeadersStatus.Continue;
    this.responseHeadersLive = true;
    const result = this.callback("proxy_on_response_headers", [headers.length, endStream ? 1 : 0]);
    return this.headersStatus(result);
  }

  encodeData(data: Uint8Array, endStream: boolean): { status: DataStatus; data: Uint8Array } {
    if (this.contextId === 0 || this.vm.failed) return { status: DataStatus.Continue, data };
    return this.bodyCallback(1, "proxy_on_response_body", data, endStream);
  }

  encodeTrailers(trailers: HeaderList): boolean {
    if (this.contextId === 0 || this.vm.failed) return true;
    this.responseTrailersLive = true;
    const result = this.callback("proxy_on_response_trailers", [trailers.length]);
    this.responseTrailersLive = false;
    return result === 0;
  }

  /** The manager says this filter's headers went on: Envoy drops the map then. */
  headersLeft(direction: "request" | "response"): void {
    if (direction === "request") this.requestHeadersLive = false;
    else this.responseHeadersLive = false;
  }

  onLog(): void {
    if (this.contextId === 0 || this.vm.failed) return;
    this.logPhase = true;
    this.vm.call("proxy_on_log", [this.contextId], this.contextId);
    this.logPhase = false;
  }

  onDestroy(): void {
    if (this.contextId === 0) return;
    if (!this.vm.failed) {
      this.vm.call("proxy_on_done", [this.contextId], this.contextId);
      this.vm.call("proxy_on_delete", [this.contextId], this.contextId);
    }
    this.vm.deleteContext(this.contextId);
  }

  private bodyCallback(type: number, name: string, data: Uint8Array, endStream: boolean): { status: DataStatus; data: Uint8Array } {
    if (this.failed) return { status: DataStatus.StopNoBuffer, data };
    this.liveBody = { type, data };
    const result = this.callback(name, [data.length, endStream ? 1 : 0]);
    const out = this.liveBody.data;
    this.liveBody = null;
    if (result === undefined || this.replyInCallback) return { status: DataStatus.StopNoBuffer, data: out };
    const statuses = [DataStatus.Continue, DataStatus.StopAndBuffer, DataStatus.StopAndWatermark];
    return { status: statuses[result] ?? DataStatus.StopNoBuffer, data: out };
  }

  private callback(name: string, args: number[]): number | undefined {
    this.replyInCallback = false;
    const result = this.vm.call(name, [this.contextId, ...args], this.contextId);
    if (result === undefined && this.vm.failed) this.failStream();
    return result;
  }

  /** Envoy: a trapped VM fails the stream closed with an empty 503. */
  private failStream(): HeadersStatus {
    if (!this.localReplyClaimed) {
      this.localReplyClaimed = true;
      this.cb.sendLocalReply(this, 503, "wasm_fail_stream", new Uint8Array(0), []);
    }
    return HeadersStatus.StopAllWatermark;
  }

  private headersStatus(result: number | undefined): HeadersStatus {
    if (result === undefined || this.replyInCallback) return HeadersStatus.StopAllWatermark;
    switch (result) {
      case 0:
      case 2:
        return HeadersStatus.Continue;
      // ABI 0.2.1 turns StopIteration into StopAll; Higress keeps it for 0.2.100 modules.
      case 1:
        return this.vm.abi === "0.2.100" ? HeadersStatus.StopIteration : HeadersStatus.StopAllWatermark;
      case 3:
        return HeadersStatus.StopAllBuffer;
      default:
        return HeadersStatus.StopAllWatermark;
    }
  }

  headerMap(mapType: number): HeaderMapView | null {
    const writable = !this.logPhase;
    switch (mapType) {
      case 0:
        return this.requestHeadersLive || this.logPhase ? { headers: this.cb.requestHeaders, writable } : null;
      case 1:
        return this.requestTrailersLive ? { headers: this.cb.requestTrailers, writable } : null;
      case 2:
        return this.responseHeadersLive || this.logPhase ? { headers: this.cb.responseHeaders, writable } : null;
      case 3:
        return this.responseTrailersLive || this.logPhase ? { headers: this.cb.responseTrailers, writable } : null;
      default:
        return null;
    }
  }

  inLogPhase(): boolean {
    return this.logPhase;
  }

  body(bufferType: number): Uint8Array | null {
    return this.liveBody && this.liveBody.type === bufferType ? this.liveBody.data : null;
  }

  setBody(bufferType: number, start: number, size: number, data: Uint8Array): Status {
    const live = this.liveBody;
    if (!live || live.type !== bufferType) return Status.BadArgument;
    const len = live.data.length;
    if (start === 0) live.data = Buffer.concat([data, live.data.subarray(Math.min(size, len))]);
    else if (start >= len) live.data = Buffer.concat([live.data, data]);
    else return Status.BadArgument;
    return Status.Ok;
  }

  property(path: string[]): Uint8Array | null {
    const info = this.cb.info;
    const key = path.join(".");
    const requestReadable = this.requestHeadersLive || this.logPhase;
    const header = (name: string) => this.cb.requestHeaders.find(([k]) => k === name)?.[1];
    const str = (v: string | null | undefined) => (v === null || v === undefined ? null : Buffer.from(v, "utf8"));
    switch (key) {
      case "route_name":
      case "xds.route_name":
        return str(info.routeName);
      case "cluster_name":
      case "xds.cluster_name":
        return str(info.clusterName);
      case "source.address":
        return str(info.sourceAddress);
      case "destination.address":
        return str(info.destinationAddress);
      case "source.port":
        return int64(Number(info.sourceAddress.slice(info.sourceAddress.lastIndexOf(":") + 1)));
      case "request.protocol":
        return str(info.protocol);
      case "response.code": {
        const code = this.cb.responseCode();
        return code === null ? null : int64(code);
      }
    }
    if (path[0] === "request") {
      if (!requestReadable) return null;
      const rawPath = header(":path") ?? "";
      const q = rawPath.indexOf("?");
      switch (path[1]) {
        case "path":
          return str(rawPath);
        case "url_path":
          return str(q < 0 ? rawPath : rawPath.slice(0, q));
        case "query":
          return str(q < 0 ? "" : rawPath.slice(q + 1).split("#")[0]);
        case "host":
          return str(header(":authority"));
        case "scheme":
          return str(header(":scheme"));
        case "method":
          return str(header(":method"));
        case "id":
          return str(header("x-request-id"));
        case "useragent":
          return str(header("user-agent"));
        case "referer":
          return str(header("referer"));
        case "headers": {
          if (path.length < 3) return null;
          const values = this.cb.requestHeaders.filter(([k]) => k === path[2].toLowerCase()).map(([, v]) => v);
          return values.length ? str(values.join(",")) : null;
        }
      }
      return null;
    }
    return this.cb.filterState.get(key) ?? null;
  }

  setFilterState(name: string, value: Uint8Array): void {
    this.cb.filterState.set(name, value);
  }

  claimLocalReply(): boolean {
    if (this.localReplyClaimed) return false;
    this.localReplyClaimed = true;
    this.replyInCallback = true;
    return true;
  }

  sendLocalReply(status: number, details: string, body: Uint8Array, headers: HeaderList): void {
    this.cb.sendLocalReply(this, status, details, body, headers);
  }

  onContinueCalled(streamType: number): void {
    // Envoy drops the request header map at once, even for a Response continue.
    this.requestHeadersLive = false;
    if (streamType === 1) this.responseHeadersLive = false;
  }

  continueStream(streamType: number): void {
    if (streamType === 0) this.cb.continueDecoding(this);
    else this.cb.continueEncoding(this);
  }

  closeStream(): void {
    this.cb.resetStream("wasm_close_stream");
  }
}
