/**
 * Host conformance probe: the request header `x-test-operation` picks what it does, so a failing
 * plugin test never leaves "host or plugin?" open (Kong's hostcalls filter does the same).
 * Results are reported through local replies and response headers the test reads.
 */
export * from "../../shared/abi/exports";
export * from "../../shared/abi/exports-log";
import {
  RootContext, HttpContext, setRootContextFactory, HeaderAction, DataAction, TrailersAction, Status, RedisStatus, MetricType,
  Header, getRequestHeader, getRequestHeaders, setRequestHeader, addRequestHeader, removeRequestHeader,
  getRequestBody, requestBodySize, setRequestBody, getResponseBody, setResponseBody, setResponseHeader,
  sendLocalResponse, continueRequest, getPropertyString, getProperty, setProperty, PropertyPath,
  logInfo, logWarn, defineMetric, incrementMetric, recordMetric, getMetric, counter,
  RedisCallback, redisInit, redisCall,
} from "../../shared/index";
import * as host from "../../shared/abi/hostcalls";
import { MapType } from "../../shared/abi/enums";

let redisCluster = "";

@external("env", "proxy_get_header_map_size")
declare function proxy_get_header_map_size(mapType: u32, returnSize: usize): u32;

@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLen: u32, written: usize): u32;

const scratch = memory.data(16);

/** The probe reads the raw size so the test sees Envoy's byte count, not a header count. */
function imports_size(): string {
  const status = proxy_get_header_map_size(0, scratch);
  return "status=" + status.toString() + " size=" + load<u32>(scratch).toString();
}

function fdWrite(message: string): u32 {
  const bytes = String.UTF8.encode(message);
  store<u32>(scratch, changetype<usize>(bytes));
  store<u32>(scratch + 4, bytes.byteLength);
  return fd_write(1, scratch, 1, scratch + 8);
}

class ProbeRoot extends RootContext {
  onConfigure(configuration: ArrayBuffer | null): bool {
    const text = configuration === null ? "" : String.UTF8.decode(configuration);
    if (text.includes("reject-config")) {
      logWarn("probe: configuration rejected on request");
      return false;
    }
    if (text.includes("trap-config")) unreachable();
    const at = text.indexOf("redis:");
    if (at >= 0) {
      const end = text.indexOf('"', at);
      redisCluster = text.slice(at + 6, end < 0 ? text.length : end);
      redisInit(redisCluster, "", "", 1000);
    }
    logInfo("probe configured");
    return true;
  }
  newHttpContext(id: u32): HttpContext {
    return new ProbeStream(id, this);
  }
}

function text(body: string): ArrayBuffer {
  return String.UTF8.encode(body);
}

/** A raw RESP query to a cluster by name. */
function send(cluster: string, query: string, callback: RedisCallback): Status {
  const bytes = text(query);
  return redisCall(text(cluster), changetype<usize>(bytes), bytes.byteLength, callback);
}

function reply(status: u32, body: string): void {
  sendLocalResponse(status, "probe", text(body), null);
}

/** Answers a paused request with the raw Redis reply once it arrives. */
class RedisReply extends RedisCallback {
  constructor(private resume: bool) {
    super();
  }
  onRedisReply(status: RedisStatus, reply: usize, size: u32): void {
    if (this.resume) {
      setRequestHeader("x-redis-status", status.toString());
      continueRequest();
      return;
    }
    const body = reply == 0 ? "" : String.UTF8.decodeUnsafe(reply, <usize>size);
    sendLocalResponse(status == RedisStatus.Ok ? 200 : 503, "probe_redis", text(body), [new Header("x-redis-status", status.toString())]);
  }
}

class ProbeStream extends HttpContext {
  operation: string = "";
  log: string = "";

  onRequestTrailers(trailerCount: u32): TrailersAction {
    // What Envoy buffered for this plugin is readable and writable with the trailers.
    if (this.operation == "buffer-body") {
      const body = getRequestBody(0, requestBodySize());
      setRequestBody(0, 0xffffffff, text("trailers-saw:" + (body === null ? "" : String.UTF8.decode(body))));
    }
    return TrailersAction.Continue;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    const op = getRequestHeader("x-test-operation");
    this.operation = op === null ? "" : op;
    const arg = getRequestHeader("x-test-arg");
    const argument = arg === null ? "" : arg;
    const o = this.operation;
    if (o == "local-reply") {
      sendLocalResponse(403, "probe denied", text("denied"), [new Header("x-probe", "1"), new Header("x-probe", "2")]);
      return HeaderAction.Continue;
    }
    if (o == "local-reply-empty") {
      sendLocalResponse(204, "probe", null, null);
      return HeaderAction.Continue;
    }
    if (o == "local-reply-typed") {
      sendLocalResponse(200, "probe", text("{}"), [new Header("content-type", "application/json")]);
      return HeaderAction.Continue;
    }
    if (o == "double-reply") {
      sendLocalResponse(401, "first", text("first"), null);
      const second = sendLocalResponse(402, "second", text("second"), null);
      logInfo("second local reply status " + second.toString());
      return HeaderAction.Continue;
    }
    if (o == "return") return <HeaderAction>(<u32>parseInt(argument));
    if (o == "continue-now") {
      continueRequest();
      return HeaderAction.StopIteration;
    }
    // Header values no HTTP/1 message can carry (CR, LF): the host must answer, never crash.
    if (o == "bad-request-header") setRequestHeader("x-bad", "a\r\nInjected: 1");
    if (o == "bad-reply-header") {
      sendLocalResponse(200, "probe", text("ok"), [new Header("x-bad", "a\r\nInjected: 1")]);
      return HeaderAction.StopIteration;
    }
    if (o == "edit-headers") {
      setRequestHeader("x-replaced", "one");
      addRequestHeader("x-added", "a");
      addRequestHeader("x-added", "b");
      removeRequestHeader("x-remove-me");
      return HeaderAction.Continue;
    }
    if (o == "read-header") {
      const value = host.getHeaderMapValue(MapType.RequestHeaders, argument);
      const status = host.lastStatus;
      reply(200, "status=" + status.toString() + " value=" + (value === null ? "null" : value) + " count=" + headerCount.toString());
      return HeaderAction.Continue;
    }
    if (o == "wipe-pairs") {
      const bad = new ArrayBuffer(6);
      store<u32>(changetype<usize>(bad), 1);
      const status = host.setHeaderMapPairs(MapType.RequestHeaders, bad);
      reply(200, "status=" + status.toString() + " after=" + getRequestHeaders().length.toString());
      return HeaderAction.Continue;
    }
    if (o == "map-size") {
      const status = imports_size();
      reply(200, status);
      return HeaderAction.Continue;
    }
    if (o == "buffer-edges") {
      const unknown = host.getBufferBytes(10, 0, 1);
      const unknownStatus = host.lastStatus;
      const immutable = host.setBufferBytes(7, 0, 0, text("x"));
      reply(200, "unknown=" + (unknown === null ? "null" : "bytes") + ":" + unknownStatus.toString() + " immutable=" + immutable.toString());
      return HeaderAction.Continue;
    }
    if (o == "fd-write") {
      const status = fdWrite("from fd_write\n");
      reply(200, "errno=" + status.toString());
      return HeaderAction.Continue;
    }
    if (o == "pairs") {
      const all = getRequestHeaders();
      let out = "";
      for (let i = 0; i < all.length; i++) out += all[i].name + "=" + all[i].value + "\n";
      reply(200, out);
      return HeaderAction.Continue;
    }
    if (o == "property") {
      const parts = argument.split(".");
      const value = getPropertyString(new PropertyPath(parts));
      reply(200, value === null ? "status=" + host.lastStatus.toString() : "value=" + value);
      return HeaderAction.Continue;
    }
    if (o == "property-int") {
      const value = getProperty(new PropertyPath(argument.split(".")));
      let out = "null";
      if (value !== null && value.byteLength == 8) out = load<i64>(changetype<usize>(value)).toString();
      reply(200, "value=" + out + " size=" + (value === null ? "0" : value.byteLength.toString()));
      return HeaderAction.Continue;
    }
    if (o == "property-dotted") {
      const value = getPropertyString(new PropertyPath([argument]));
      reply(200, value === null ? "status=" + host.lastStatus.toString() : "value=" + value);
      return HeaderAction.Continue;
    }
    if (o == "set-property") {
      setProperty(new PropertyPath(["probe_key"]), text("probe_value"));
      const value = getPropertyString(new PropertyPath(["probe_key"]));
      reply(200, value === null ? "null" : value);
      return HeaderAction.Continue;
    }
    if (o == "set-ai-log") {
      // Another plugin's ai_log (ai-statistics, say) before the AI plugins write theirs; the stream goes on.
      setProperty(new PropertyPath(["ai_log"]), text(argument));
      return HeaderAction.Continue;
    }
    if (o == "filter-state-chain") {
      // The first filter of a chain marks the stream and lets it on; a later one replies with the mark.
      const mark = getPropertyString(new PropertyPath(["probe_mark"]));
      if (mark !== null) {
        reply(200, "seen=" + mark);
        return HeaderAction.Continue;
      }
      setProperty(new PropertyPath(["probe_mark"]), text("first"));
      return HeaderAction.Continue;
    }
    if (o == "body-in-headers") {
      const body = getRequestBody(0, 0xffffffff);
      reply(200, "body=" + (body === null ? "null" : body.byteLength.toString()) + " status=" + host.lastStatus.toString());
      return HeaderAction.Continue;
    }
    if (o == "metrics") {
      const c = defineMetric(MetricType.Counter, "probe.requests");
      const g = defineMetric(MetricType.Gauge, "probe.gauge");
      const h = defineMetric(MetricType.Histogram, "probe.histogram");
      const zero = incrementMetric(c, 0);
      incrementMetric(c, 2);
      recordMetric(c, 3);
      recordMetric(g, 7);
      const histogramGet = host.getMetric(h);
      const unknown = incrementMetric(999, 1);
      counter("probe.cached");
      incrementMetric(counter("probe.cached"), 1);
      reply(200, "ids=" + c.toString() + "," + g.toString() + "," + h.toString() + " zero=" + zero.toString() + " counter=" + getMetric(c).toString() + " hist=" + histogramGet.toString() + " unknown=" + unknown.toString());
      return HeaderAction.Continue;
    }
    if (o == "log-level") {
      const status = host.log(6, "level six");
      reply(200, "level=" + host.getLogLevel().toString() + " six=" + status.toString());
      return HeaderAction.Continue;
    }
    if (o == "trap") unreachable();
    if (o == "read-config") {
      const config = host.getBufferBytes(7, 0, 0xffffffff);
      const vmConfig = host.getBufferBytes(6, 0, 0xffffffff);
      reply(200, "plugin=" + (config === null ? "null" : "bytes") + " status=" + host.lastStatus.toString() + " vm=" + (vmConfig === null ? "null" : "bytes"));
      return HeaderAction.Continue;
    }
    if (o == "redis-buffer") {
      const buffer = host.getBufferBytes(9, 0, 0xffffffff);
      reply(200, "redis=" + (buffer === null ? "null" : buffer.byteLength.toString()));
      return HeaderAction.Continue;
    }
    if (o == "effective-unknown") {
      reply(200, "status=" + host.setEffectiveContext(99999).toString());
      return HeaderAction.Continue;
    }
    if (o == "redis-get" || o == "redis-raw") {
      const query = o == "redis-get" ? "*2\r\n$3\r\nGET\r\n$" + String.UTF8.byteLength(argument).toString() + "\r\n" + argument + "\r\n" : argument.replaceAll("\\r\\n", "\r\n");
      const status = send(redisCluster, query, new RedisReply(false));
      if (status != Status.Ok) {
        reply(500, "dispatch=" + status.toString());
        return HeaderAction.Continue;
      }
      return HeaderAction.StopIteration;
    }
    if (o == "redis-continue") {
      const status = send(redisCluster, "*1\r\n$4\r\nPING\r\n", new RedisReply(true));
      if (status != Status.Ok) reply(500, "dispatch=" + status.toString());
      return HeaderAction.StopIteration;
    }
    if (o == "redis-unknown-cluster") {
      const status = send("no-such-cluster", "*1\r\n$4\r\nPING\r\n", new RedisReply(false));
      reply(200, "dispatch=" + status.toString());
      return HeaderAction.Continue;
    }
    return HeaderAction.Continue;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): DataAction {
    this.log += "body(" + bodySize.toString() + "," + (endOfStream ? "eos" : "more") + ")";
    const o = this.operation;
    if (o == "buffer-body") {
      if (!endOfStream) return DataAction.StopIterationAndBuffer;
      const body = getRequestBody(0, bodySize);
      setRequestBody(0, 0xffffffff, text("seen:" + (body === null ? "" : String.UTF8.decode(body))));
      return DataAction.Continue;
    }
    if (o == "body-edit") {
      setRequestBody(0, 0, text("<"));
      setRequestBody(0xffffffff, 0, text(">"));
      return DataAction.Continue;
    }
    if (o == "body-past-end") {
      const past = getRequestBody(bodySize + 10, 5);
      setRequestBody(0xffffffff, 0, text("[past=" + (past === null ? "null" : past.byteLength.toString()) + " status=" + host.lastStatus.toString() + "]"));
      return DataAction.Continue;
    }
    if (o == "body-mid") {
      const status = setRequestBody(1, 0, text("x"));
      if (status != Status.Ok) setRequestBody(0xffffffff, 0, text("[mid=" + status.toString() + "]"));
      return DataAction.Continue;
    }
    if (o == "drop-body") return DataAction.StopIterationNoBuffer;
    if (o == "read-in-body") {
      host.getHeaderMapValue(MapType.RequestHeaders, ":path");
      setRequestBody(0xffffffff, 0, text("[status=" + host.lastStatus.toString() + "]"));
      return DataAction.Continue;
    }
    if (o == "body-trap") unreachable();
    return DataAction.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): HeaderAction {
    setResponseHeader("x-probe-seen", this.log == "" ? "none" : this.log);
    host.getHeaderMapValue(MapType.RequestHeaders, ":path");
    setResponseHeader("x-request-header-status", host.lastStatus.toString());
    if (this.operation == "respond-in-response") {
      sendLocalResponse(418, "probe", text("teapot"), null);
    }
    if (this.operation == "bad-response-header") setResponseHeader("x-bad", "a\r\nInjected: 1");
    return HeaderAction.Continue;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): DataAction {
    if (this.operation == "respond-in-body") sendLocalResponse(500, "probe", text("too late"), null);
    if (this.operation == "response-upper") {
      const body = getResponseBody(0, bodySize);
      if (body !== null) setResponseBody(0, 0xffffffff, text(String.UTF8.decode(body).toUpperCase()));
    }
    return DataAction.Continue;
  }

  onLog(): void {
    const path = getRequestHeader(":path");
    const write = setRequestHeader("x-in-log", "1");
    logInfo("probe log path=" + (path === null ? "null" : path) + " write=" + write.toString() + " op=" + this.operation);
  }

  onDone(): void {
    logInfo("probe done " + this.id.toString());
  }

  onDelete(): void {
    logInfo("probe delete " + this.id.toString());
  }
}

setRootContextFactory((id: u32): RootContext => new ProbeRoot(id));
