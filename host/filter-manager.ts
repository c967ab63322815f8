/**
 * Envoy's HTTP filter manager for one stream: decoders in order, encoders in reverse, with the
 * pause rules of proxy-wasm-abi.md §2.3 (StopIteration, StopAll, body buffering), deferred
 * continues, local replies by phase, and the end order on_log → on_done → on_delete.
 */
import { WasmFilter, HeadersStatus, DataStatus, type FilterCallbacks } from "./wasm-filter.ts";
import type { WasmVm } from "./vm.ts";
import type { DownstreamHandler, FilterChainStream, HeaderList, StreamInfo, UpstreamHandler } from "./stream-api.ts";

type Frame =
  | { kind: "headers"; headers: HeaderList; eos: boolean }
  | { kind: "data"; data: Uint8Array; eos: boolean }
  | { kind: "trailers"; trailers: HeaderList };

/** Where one filter holds one direction. */
class Hold {
  state: "idle" | "stopIteration" | "stopAll" | "flowing" = "idle";
  headers: Frame | null = null;
  data: Uint8Array | null = null;
  dataEos = false;
  /** True when the filter already saw `data` (it asked to buffer); false when Envoy held it unseen. */
  dataSeen = false;
  trailers: Frame | null = null;
  /** Whether this filter already saw the held trailers (it answered StopIteration). */
  trailersSeen = false;
}

type Direction = "decode" | "encode";

export interface ManagerOptions {
  legacyBodyBuffering: boolean;
  /** Request/response body held for a filter beyond this many bytes → 413 / 500 (Envoy's buffer limit). */
  bufferLimit: number;
}

export class FilterManager implements FilterChainStream, FilterCallbacks {
  readonly requestHeaders: HeaderList = [];
  readonly responseHeaders: HeaderList = [];
  readonly requestTrailers: HeaderList = [];
  readonly responseTrailers: HeaderList = [];
  readonly filterState = new Map<string, Uint8Array>();
  private readonly filters: WasmFilter[];
  private readonly holds: Record<Direction, Hold[]>;
  private decodeEnded = false;
  private encodeStarted = false;
  private headersSent = false;
  private finished = false;
  private status: number | null = null;

  /** One filter per plugin config: its VM and the root context that holds the config. */
  constructor(
    plugins: Array<{ vm: WasmVm; rootId: number }>,
    readonly info: StreamInfo,
    private readonly upstream: UpstreamHandler,
    private readonly downstream: DownstreamHandler,
    private readonly options: ManagerOptions,
  ) {
    this.filters = plugins.map((p) => new WasmFilter(p.vm, this, p.rootId));
    this.holds = { decode: this.filters.map(() => new Hold()), encode: this.filters.map(() => new Hold()) };
  }

  responseCode(): number | null {
    return this.status;
  }

  decodeHeaders(headers: HeaderList, endStream: boolean): void {
    this.requestHeaders.splice(0, this.requestHeaders.length, ...headers);
    this.push("decode", 0, { kind: "headers", headers: this.requestHeaders, eos: endStream });
  }
  decodeData(data: Uint8Array, endStream: boolean): void {
    this.push("decode", 0, { kind: "data", data, eos: endStream });
  }
  decodeTrailers(trailers: HeaderList): void {
    this.requestTrailers.splice(0, this.requestTrailers.length, ...trailers);
    this.push("decode", 0, { kind: "trailers", trailers: this.requestTrailers });
  }
  encodeHeaders(headers: HeaderList, endStream: boolean): void {
    if (this.finished || this.encodeStarted) return;
    this.encodeStarted = true;
    this.responseHeaders.splice(0, this.responseHeaders.length, ...headers);
    this.status = Number(headers.find(([k]) => k === ":status")?.[1] ?? 0);
    this.push("encode", 0, { kind: "headers", headers: this.responseHeaders, eos: endStream });
  }
  encodeData(data: Uint8Array, endStream: boolean): void {
    this.push("encode", 0, { kind: "data", data, eos: endStream });
  }
  encodeTrailers(trailers: HeaderList): void {
    this.responseTrailers.splice(0, this.responseTrailers.length, ...trailers);
    this.push("encode", 0, { kind: "trailers", trailers: this.responseTrailers });
  }

  reset(reason: string): void {
    if (this.finished) return;
    this.upstream.onCancel();
    void reason;
    this.finish();
  }

  /** The filter at position `step` of a direction (decoders forward, encoders in reverse). */
  private filterAt(direction: Direction, step: number): WasmFilter {
    return direction === "decode" ? this.filters[step] : this.filters[this.filters.length - 1 - step];
  }

  private push(direction: Direction, step: number, frame: Frame): void {
    if (this.finished || (direction === "decode" && this.decodeEnded)) return;
    if (step === this.filters.length) return this.leave(direction, frame);
    const filter = this.filterAt(direction, step);
    const hold = this.holds[direction][step];
    if (frame.kind === "headers") {
      const status = direction === "decode" ? filter.decodeHeaders(frame.headers, frame.eos) : filter.encodeHeaders(frame.headers, frame.eos);
      if (this.stopped(direction)) return;
      if (status === HeadersStatus.Continue) {
        hold.state = "flowing";
        filter.headersLeft(direction === "decode" ? "request" : "response");
      } else {
        hold.state = status === HeadersStatus.StopIteration ? "stopIteration" : "stopAll";
        hold.headers = frame;
      }
      filter.vm.drain();
      if (status === HeadersStatus.Continue && !this.stopped(direction)) this.push(direction, step + 1, frame);
      return;
    }
    if (frame.kind === "data") {
      if (hold.state === "stopAll") {
        this.hold(direction, hold, frame.data, frame.eos, false);
        return;
      }
      this.deliverData(direction, step, frame.data, frame.eos);
      return;
    }
    // Held unseen (StopAll, or data Envoy kept from this filter): the trailers wait with it. A filter
    // that buffered the body it saw (StopIterationAndBuffer) gets the trailers, with that body
    // readable and writable, as Envoy does; Continue then sends headers, body and trailers on.
    if (hold.state === "stopAll" || (hold.data !== null && !hold.dataSeen)) {
      hold.trailers = frame;
      return;
    }
    let ok: boolean;
    if (direction === "decode") {
      const answer = filter.decodeTrailers(frame.trailers, hold.data);
      ok = answer.ok;
      if (hold.data !== null && answer.body !== null) hold.data = answer.body;
    } else {
      ok = filter.encodeTrailers(frame.trailers);
    }
    if (!ok) {
      hold.trailers = frame;
      hold.trailersSeen = true;
    }
    filter.vm.drain();
    if (this.stopped(direction)) return;
    if (ok) {
      this.release(direction, step);
      if (hold.data !== null) {
        const data = hold.data;
        hold.data = null;
        this.push(direction, step + 1, { kind: "data", data, eos: false });
      }
      this.push(direction, step + 1, frame);
    }
  }

  /** Gives a data frame to the filter at `step` and acts on its answer. */
  private deliverData(direction: Direction, step: number, data: Uint8Array, eos: boolean): void {
    const filter = this.filterAt(direction, step);
    const hold = this.holds[direction][step];
    const buffered = hold.data !== null && hold.dataSeen ? hold.data : null;
    // Envoy 1.27 shows only what was buffered before; the fixed Envoy shows buffered + current.
    const shown = buffered === null ? data : this.options.legacyBodyBuffering ? buffered : Buffer.concat([buffered, data]);
    const result = direction === "decode" ? filter.decodeData(shown, eos) : filter.encodeData(shown, eos);
    if (this.stopped(direction)) return;
    const out = buffered !== null && this.options.legacyBodyBuffering ? Buffer.concat([result.data, data]) : result.data;
    if (result.status === DataStatus.Continue) {
      hold.data = null;
    } else if (result.status === DataStatus.StopNoBuffer) {
      if (eos) hold.dataEos = true;
    } else {
      hold.data = null;
      this.hold(direction, hold, out, eos, true);
    }
    filter.vm.drain();
    if (result.status !== DataStatus.Continue || this.stopped(direction)) return;
    this.release(direction, step);
    this.push(direction, step + 1, { kind: "data", data: out, eos });
    this.flushTrailers(direction, step);
  }

  private hold(direction: Direction, hold: Hold, data: Uint8Array, eos: boolean, seen: boolean): void {
    hold.data = hold.data === null ? data : Buffer.concat([hold.data, data]);
    hold.dataEos = eos;
    hold.dataSeen = seen;
    if (hold.data.length > this.options.bufferLimit) {
      // Envoy: request buffer overflow → 413, response buffer overflow → 500.
      this.sendLocalReply(null, direction === "decode" ? 413 : 500, "buffer_limit_exceeded", Buffer.from(direction === "decode" ? "Payload Too Large" : "Internal Server Error"), []);
    }
  }

  /** Headers held at `step` go on (a body Continue after StopIteration resumes the stream). */
  private release(direction: Direction, step: number): void {
    const hold = this.holds[direction][step];
    if (hold.state === "stopIteration" || hold.state === "stopAll") {
      hold.state = "flowing";
      const headers = hold.headers;
      hold.headers = null;
      this.filterAt(direction, step).headersLeft(direction === "decode" ? "request" : "response");
      if (headers) this.push(direction, step + 1, headers);
    }
  }

  private flushTrailers(direction: Direction, step: number): void {
    const hold = this.holds[direction][step];
    if (hold.trailers && hold.data === null) {
      const trailers = hold.trailers;
      const seen = hold.trailersSeen;
      hold.trailers = null;
      hold.trailersSeen = false;
      // Trailers this filter already answered go on to the next one.
      this.push(direction, seen ? step + 1 : step, trailers);
    }
  }

  private resume(direction: Direction, filter: WasmFilter): void {
    if (this.finished) return;
    const step = direction === "decode" ? this.filters.indexOf(filter) : this.filters.length - 1 - this.filters.indexOf(filter);
    const hold = this.holds[direction][step];
    const wasStopAll = hold.state === "stopAll";
    this.release(direction, step);
    if (hold.data !== null) {
      const data = hold.data;
      const eos = hold.dataEos;
      const seen = hold.dataSeen;
      hold.data = null;
      // Data Envoy held unseen is delivered to this filter as one aggregated chunk.
      if (wasStopAll && !seen) this.deliverData(direction, step, data, eos);
      else this.push(direction, step + 1, { kind: "data", data, eos });
    }
    this.flushTrailers(direction, step);
  }

  continueDecoding(from: WasmFilter): void {
    this.resume("decode", from);
  }
  continueEncoding(from: WasmFilter): void {
    this.resume("encode", from);
  }

  private stopped(direction: Direction): boolean {
    return this.finished || (direction === "decode" && this.decodeEnded);
  }

  private leave(direction: Direction, frame: Frame): void {
    if (direction === "decode") {
      if (frame.kind === "headers") this.upstream.onRequestHeaders(frame.headers, frame.eos);
      else if (frame.kind === "data") this.upstream.onRequestData(frame.data, frame.eos);
      else this.upstream.onRequestTrailers(frame.trailers);
      return;
    }
    if (frame.kind === "headers") {
      this.headersSent = true;
      this.downstream.onResponseHeaders(frame.headers, frame.eos);
      if (frame.eos) this.finish();
    } else if (frame.kind === "data") {
      this.downstream.onResponseData(frame.data, frame.eos);
      if (frame.eos) this.finish();
    } else {
      this.downstream.onResponseTrailers(frame.trailers);
      this.finish();
    }
  }

  sendLocalReply(_from: WasmFilter | null, status: number, details: string, body: Uint8Array, extra: HeaderList): void {
    if (this.finished) return;
    void details;
    if (this.headersSent) {
      this.resetStream("local reply after response headers were sent");
      return;
    }
    const headers: HeaderList = [[":status", String(status)], ...extra.map(([k, v]) => [k.toLowerCase(), v] as [string, string])];
    const withoutLength = headers.filter(([k]) => k !== "content-length" && (body.length > 0 || k !== "content-type"));
    if (body.length > 0) {
      withoutLength.push(["content-length", String(body.length)]);
      if (!withoutLength.some(([k]) => k === "content-type")) withoutLength.push(["content-type", "text/plain"]);
    }
    this.decodeEnded = true;
    this.upstream.onCancel();
    if (this.encodeStarted) {
      // Response phase before headers left: the reply replaces the response, skipping encoders.
      this.headersSent = true;
      this.downstream.onResponseHeaders(withoutLength, body.length === 0);
      if (body.length > 0) this.downstream.onResponseData(body, true);
      this.finish();
      return;
    }
    // Request phase: the reply runs through every encoder, the sender's own included.
    this.encodeStarted = true;
    this.responseHeaders.splice(0, this.responseHeaders.length, ...withoutLength);
    this.status = status;
    for (const hold of this.holds.encode) Object.assign(hold, new Hold());
    this.push("encode", 0, { kind: "headers", headers: this.responseHeaders, eos: body.length === 0 });
    if (body.length > 0) this.push("encode", 0, { kind: "data", data: body, eos: true });
  }

  resetStream(reason: string): void {
    if (this.finished) return;
    this.upstream.onCancel();
    this.downstream.onReset(reason);
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const filter of this.filters) filter.onLog();
    this.downstream.onLog?.({ requestHeaders: this.requestHeaders, responseCode: this.responseCode(), filterState: this.filterState });
    for (const filter of this.filters) filter.onDestroy();
  }
}
