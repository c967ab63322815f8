/**
 * A real HTTP gateway on loopback around the Wasm filter chain: Envoy-style request headers,
 * route matching, streaming to and from the upstream cluster, an admin listener with
 * Prometheus stats (as Envoy with Higress's stats_tags renders them) and the dashboard page
 * (dashboard/), and an access log line per request (access-log.ts).
 */
import http from "node:http";
import https from "node:https";
import { rootCertificates } from "node:tls";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { createFilterChain, type WasmChain } from "./chain.ts";
import { RedisBridge } from "./redis-bridge.ts";
import { loadGatewayConfig, parseGatewayConfig, domainMatches, type GatewayConfig, type HttpCluster, type RouteConfig } from "./gateway-config.ts";
import { renderPrometheus } from "./prometheus.ts";
import { accessLogLine } from "./access-log.ts";
import { isDashboardPath } from "./dashboard/panels.ts";
import type { Dashboard } from "./dashboard/server.ts";
import type { FilterChainStream, HeaderList, LogEntry, MetricSample, StreamInfo } from "./stream-api.ts";

const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "http2-settings"]);

export interface Gateway {
  url: string;
  port: number;
  adminUrl: string;
  chain: WasmChain;
  config: GatewayConfig;
  metrics(): MetricSample[];
  logs(): LogEntry[];
  /** The router's own log lines (upstream failures and timeouts), as Envoy logs them beside the plugins'. */
  routerLogs(): string[];
  /** The access log lines of the last ACCESS_LOG_KEPT requests, oldest first. */
  accessLog(): string[];
  close(): Promise<void>;
}

/** Envoy's local replies when the router cannot get an answer from the upstream. */
export const UPSTREAM_FAILURE = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
export const UPSTREAM_CONNECT_TIMEOUT = "upstream connect error or disconnect/reset before headers. reset reason: connection timeout";
export const UPSTREAM_TLS_FAILURE = "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS error";
export const UPSTREAM_TIMEOUT = "upstream request timeout";
/** A header a plugin set that no HTTP/1 message can carry (CR, LF, NUL in its value): the codec cannot send the request. */
export const UPSTREAM_PROTOCOL_ERROR = "upstream connect error or disconnect/reset before headers. reset reason: protocol error";

/** Access log lines kept in memory; a long-running gateway prints them (onAccessLog) rather than keeps them. */
const ACCESS_LOG_KEPT = 10_000;

export interface GatewayOptions {
  /** Called with each access log line as its request ends (cli.ts and npm start print it). */
  onAccessLog?: (line: string) => void;
}

/** Starts the gateway; the config is an object, a parsed GatewayConfig, or a YAML file path. */
export async function startGateway(config: string | object, options: GatewayOptions = {}): Promise<Gateway> {
  const parsed = typeof config === "string" ? loadGatewayConfig(config) : "httpClusters" in config ? (config as GatewayConfig) : parseGatewayConfig(config);
  const redis = new RedisBridge(parsed.redisClusters);
  const chain = await createFilterChain(parsed.plugins, { mode: parsed.mode, redis, logLevel: parsed.logLevel });
  const routerLogs: string[] = [];
  const accessLog: string[] = [];
  const log = (line: string) => {
    accessLog.push(line);
    if (accessLog.length > ACCESS_LOG_KEPT) accessLog.splice(0, accessLog.length - ACCESS_LOG_KEPT);
    options.onAccessLog?.(line);
  };
  const server = http.createServer((req, res) => handle(parsed, chain, req, res, (line) => routerLogs.push(line), log));
  server.keepAliveTimeout = 1000;
  // The dashboard's module is loaded on the first request for it: a gateway nobody looks at never runs it.
  let dashboard: Promise<Dashboard> | null = null;
  const admin = http.createServer((req, res) => {
    if (isDashboardPath(req.url)) {
      dashboard ??= import("./dashboard/server.ts").then((m) => m.createDashboard({ config: parsed, metrics: () => chain.metrics() }));
      dashboard.then((d) => d.handle(req, res)).catch((e: Error) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end(`dashboard: ${e.message}\n`);
      });
    } else if (req.url === "/stats/prometheus") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(renderPrometheus(chain.metrics()));
    } else if (req.url === "/ready") {
      res.writeHead(200).end("LIVE\n");
    } else res.writeHead(404).end();
  });
  await listen(server, parsed.listen);
  await listen(admin, parsed.admin);
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${parsed.listen.host}:${port}`,
    port,
    adminUrl: `http://${parsed.admin.host}:${(admin.address() as AddressInfo).port}`,
    chain,
    config: parsed,
    metrics: () => chain.metrics(),
    logs: () => chain.logs(),
    routerLogs: () => routerLogs,
    accessLog: () => [...accessLog],
    close: async () => {
      server.closeAllConnections();
      admin.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => admin.close(r))]);
      await redis.close();
      if (dashboard) (await dashboard.catch(() => null))?.close();
      await chain.close();
    },
  };
}

function listen(server: http.Server, at: { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => resolve());
  });
}

function matchRoute(config: GatewayConfig, authority: string, path: string): RouteConfig | null {
  return config.routes.find((r) => r.domains.some((d) => domainMatches(d, authority)) && path.startsWith(r.prefix)) ?? null;
}

/** Envoy's view of the request headers: pseudo-headers first, Host folded into :authority. */
function requestHeaders(req: http.IncomingMessage): HeaderList {
  const headers: HeaderList = [
    [":authority", req.headers.host ?? ""],
    [":path", req.url ?? "/"],
    [":method", req.method ?? "GET"],
    [":scheme", "http"],
  ];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (name === "host" || HOP_BY_HOP.has(name)) continue;
    headers.push([name, req.rawHeaders[i + 1]]);
  }
  if (!headers.some(([k]) => k === "x-request-id")) headers.push(["x-request-id", randomUUID()]);
  headers.push(["x-forwarded-proto", "http"]);
  return headers;
}

function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** The path the upstream is asked for: the cluster's base path, then the request's (Envoy's prefix_rewrite of "/"). */
function upstreamPath(cluster: HttpCluster, path: string): string {
  const base = cluster.url.pathname.replace(/\/+$/, "");
  return base + (path.startsWith("/") ? path : `/${path}`);
}

/** System CAs plus the cluster's own: Node's `ca` option replaces the defaults, so both are given. */
const trustCache = new WeakMap<HttpCluster, string[]>();
function trusted(cluster: HttpCluster): string[] | undefined {
  if (cluster.ca === null) return undefined;
  let list = trustCache.get(cluster);
  if (!list) trustCache.set(cluster, (list = [...rootCertificates, cluster.ca]));
  return list;
}

/** What a failed upstream request is answered with: TLS failures and connect timeouts say so, as Envoy's reset reasons do. */
function failureReply(error: NodeJS.ErrnoException, connectTimedOut: boolean): string {
  if (connectTimedOut) return UPSTREAM_CONNECT_TIMEOUT;
  const code = error.code ?? "";
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ERR_TLS/.test(code) || /certificate|SSL|TLS/i.test(error.message)) return `${UPSTREAM_TLS_FAILURE}: ${code || error.message}`;
  return UPSTREAM_FAILURE;
}

function handle(config: GatewayConfig, chain: WasmChain, req: http.IncomingMessage, res: http.ServerResponse, log: (line: string) => void, accessLog: (line: string) => void): void {
  const started = performance.now();
  const headers = requestHeaders(req);
  const route = matchRoute(config, req.headers.host ?? "", req.url ?? "/");
  const info: StreamInfo = {
    routeName: route?.name ?? null,
    clusterName: route?.clusterName ?? null,
    sourceAddress: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
    destinationAddress: `${req.socket.localAddress}:${req.socket.localPort}`,
    protocol: `HTTP/${req.httpVersion}`,
  };
  let upstreamReq: http.ClientRequest | null = null;
  let finished = false;
  let stream: FilterChainStream;
  // After response headers went out, Envoy answers an upstream reset by resetting the downstream.
  const upstreamReset = () => {
    if (finished) return;
    finished = true;
    clearRouteTimer();
    stream.reset("upstream reset");
    res.destroy();
  };

  let routeTimer: NodeJS.Timeout | null = null;
  const clearRouteTimer = () => {
    if (routeTimer) clearTimeout(routeTimer);
    routeTimer = null;
  };
  /** A local reply from the router, through the encoders as Envoy's are. */
  const routerReply = (status: number, body: string) => {
    stream.encodeHeaders([[":status", String(status)], ["content-type", "text/plain"], ["content-length", String(Buffer.byteLength(body))]], false);
    stream.encodeData(Buffer.from(body), true);
  };

  const sendUpstream = (cluster: HttpCluster, head: HeaderList, endStream: boolean) => {
    const outHeaders: Array<string> = [];
    const extra = cluster.headers;
    const target = cluster.url;
    let path = "/";
    let method = "GET";
    for (const [k, v] of head) {
      if (k === ":path") path = upstreamPath(cluster, v);
      else if (k === ":method") method = v;
      // The upstream's own name, as Envoy's auto_host_rewrite: a provider routes by it (the client's is for the gateway).
      else if (k === ":authority") outHeaders.push("host", target.host);
      else if (!k.startsWith(":") && !extra.some(([name]) => name === k)) outHeaders.push(k, v);
    }
    for (const [k, v] of extra) outHeaders.push(k, v);
    const secure = target.protocol === "https:";
    const options = {
      host: target.hostname.replace(/^\[|\]$/g, ""), port: target.port || (secure ? 443 : 80), method, path,
      headers: outHeaders as unknown as http.OutgoingHttpHeaders, agent: false as const,
      ...(secure ? { ca: trusted(cluster), servername: /^[\d.]+$|:/.test(target.hostname) ? undefined : target.hostname } : {}),
    };
    let upstream: http.ClientRequest;
    try {
      upstream = (secure ? https : http).request(options);
    } catch (error) {
      // Node refuses such a header before anything is sent: answered as a codec error, the gateway lives on.
      log(`upstream ${route!.cluster} (${target.origin}) ${method} ${path}: request not sent: ${(error as Error).message}`);
      routerReply(503, UPSTREAM_PROTOCOL_ERROR);
      return;
    }
    upstreamReq = upstream;
    let connectTimedOut = false;
    // Envoy's connect_timeout: from the connection attempt until it is up (TLS handshake included).
    const connectTimer = setTimeout(() => {
      connectTimedOut = true;
      upstream.destroy(new Error("connect timeout"));
    }, cluster.connectTimeoutMs);
    upstream.once("socket", (socket) => socket.once(secure ? "secureConnect" : "connect", () => clearTimeout(connectTimer)));
    upstream.on("response", (upstreamRes) => {
      clearTimeout(connectTimer);
      const response: HeaderList = [[":status", String(upstreamRes.statusCode)]];
      for (let i = 0; i < upstreamRes.rawHeaders.length; i += 2) {
        const name = upstreamRes.rawHeaders[i].toLowerCase();
        if (!HOP_BY_HOP.has(name)) response.push([name, upstreamRes.rawHeaders[i + 1]]);
      }
      stream.encodeHeaders(response, false);
      upstreamRes.on("data", (chunk: Buffer) => {
        const every = config.splitResponseBody;
        if (!every) return stream.encodeData(chunk, false);
        for (let at = 0; at < chunk.length; at += every) stream.encodeData(chunk.subarray(at, at + every), false);
      });
      upstreamRes.on("end", () => {
        clearRouteTimer();
        const trailers = Object.entries(upstreamRes.trailers).map(([k, v]) => [k, String(v)] as [string, string]);
        if (trailers.length) stream.encodeTrailers(trailers);
        else stream.encodeData(new Uint8Array(0), true);
      });
      upstreamRes.on("error", upstreamReset);
    });
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      clearRouteTimer();
      if (finished) return;
      const reply = failureReply(error, connectTimedOut);
      log(`upstream ${route!.cluster} (${target.origin}) ${method} ${path}: ${error.code ?? ""} ${error.message}`.replace(/  +/g, " "));
      if (!res.headersSent) routerReply(503, reply);
      else upstreamReset();
    });
    if (endStream) endUpstreamRequest(cluster);
  };

  /** The request is whole upstream: Envoy's route timeout runs from here to the response's end. */
  const endUpstreamRequest = (cluster: HttpCluster) => {
    upstreamReq?.end();
    if (cluster.timeoutMs === 0 || routeTimer) return;
    routeTimer = setTimeout(() => {
      routeTimer = null;
      if (finished) return;
      log(`upstream ${route!.cluster} (${cluster.url.origin}): no complete response within the route timeout of ${cluster.timeoutMs / 1000} s`);
      const pending = upstreamReq;
      upstreamReq = null;
      if (!res.headersSent) {
        pending?.destroy();
        routerReply(504, UPSTREAM_TIMEOUT);
      } else {
        upstreamReset();
        pending?.destroy();
      }
    }, cluster.timeoutMs);
  };

  stream = chain.newStream(info, {
    onRequestHeaders: (head, endStream) => {
      const cluster = route ? config.httpClusters[route.cluster] : null;
      if (!cluster) {
        // Envoy's router answers 404 (NR) when no route matched; it passes through the encoders.
        stream.encodeHeaders([[":status", "404"]], true);
        return;
      }
      sendUpstream(cluster, head, endStream);
    },
    onRequestData: (data, endStream) => {
      if (!upstreamReq) return;
      if (data.length) upstreamReq.write(data);
      if (endStream) endUpstreamRequest(config.httpClusters[route!.cluster]);
    },
    onRequestTrailers: () => upstreamReq && endUpstreamRequest(config.httpClusters[route!.cluster]),
    onCancel: () => {
      clearRouteTimer();
      upstreamReq?.destroy();
    },
  }, {
    onResponseHeaders: (head, endStream) => {
      const status = Number(head.find(([k]) => k === ":status")?.[1] ?? 502);
      const out: string[] = [];
      for (const [k, v] of head) if (!k.startsWith(":") && !HOP_BY_HOP.has(k)) out.push(k, v);
      try {
        res.writeHead(status, out);
      } catch (error) {
        // A response header no HTTP/1 message can carry: the downstream stream is reset, as on a codec error, and the chain told.
        log(`response to ${req.method} ${req.url} not sent: ${(error as Error).message}`);
        finished = true;
        upstreamReq?.destroy();
        stream.reset("downstream protocol error");
        res.destroy();
        return;
      }
      res.flushHeaders();
      if (endStream) {
        finished = true;
        res.end();
      }
    },
    onResponseData: (data, endStream) => {
      if (data.length) res.write(data);
      if (endStream) {
        finished = true;
        res.end();
      }
    },
    onResponseTrailers: () => {
      finished = true;
      res.end();
    },
    onReset: () => {
      finished = true;
      res.destroy();
    },
    onLog: (record) => accessLog(accessLogLine({ ...record, routeName: info.routeName, durationMs: performance.now() - started })),
  });

  res.on("close", () => {
    if (!finished) {
      finished = true;
      clearRouteTimer();
      stream.reset("downstream disconnect");
    }
  });
  const withBody = hasBody(req);
  stream.decodeHeaders(headers, !withBody);
  if (withBody) {
    req.on("data", (chunk: Buffer) => stream.decodeData(chunk, false));
    req.on("end", () => stream.decodeData(new Uint8Array(0), true));
  }
}
