/**
 * A real HTTP gateway on loopback around the Wasm filter chain: Envoy-style request headers,
 * route matching, streaming to and from the upstream cluster, an admin listener with
 * Prometheus stats (as Envoy with Higress's stats_tags renders them), and an access log line per
 * request (access-log.ts).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { createFilterChain, type WasmChain } from "./chain.ts";
import { RedisBridge } from "./redis-bridge.ts";
import { loadGatewayConfig, parseGatewayConfig, domainMatches, type GatewayConfig, type RouteConfig } from "./gateway-config.ts";
import { renderPrometheus } from "./prometheus.ts";
import { accessLogLine } from "./access-log.ts";
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
  /** The access log lines of the last ACCESS_LOG_KEPT requests, oldest first. */
  accessLog(): string[];
  close(): Promise<void>;
}

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
  const accessLog: string[] = [];
  const log = (line: string) => {
    accessLog.push(line);
    if (accessLog.length > ACCESS_LOG_KEPT) accessLog.splice(0, accessLog.length - ACCESS_LOG_KEPT);
    options.onAccessLog?.(line);
  };
  const server = http.createServer((req, res) => handle(parsed, chain, req, res, log));
  server.keepAliveTimeout = 1000;
  const admin = http.createServer((req, res) => {
    if (req.url === "/stats/prometheus") {
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
    accessLog: () => [...accessLog],
    close: async () => {
      server.closeAllConnections();
      admin.closeAllConnections();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => admin.close(r))]);
      await redis.close();
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

function handle(config: GatewayConfig, chain: WasmChain, req: http.IncomingMessage, res: http.ServerResponse, log: (line: string) => void): void {
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
    stream.reset("upstream reset");
    res.destroy();
  };

  const sendUpstream = (target: URL, head: HeaderList, endStream: boolean) => {
    const outHeaders: Array<string> = [];
    const extra = route ? config.clusterHeaders[route.cluster] ?? [] : [];
    let path = "/";
    let method = "GET";
    for (const [k, v] of head) {
      if (k === ":path") path = v;
      else if (k === ":method") method = v;
      else if (k === ":authority") outHeaders.push("host", v);
      else if (!k.startsWith(":") && !extra.some(([name]) => name === k)) outHeaders.push(k, v);
    }
    for (const [k, v] of extra) outHeaders.push(k, v);
    upstreamReq = http.request({ host: target.hostname, port: target.port, method, path, headers: outHeaders as unknown as http.OutgoingHttpHeaders, agent: false });
    upstreamReq.on("response", (upstreamRes) => {
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
        const trailers = Object.entries(upstreamRes.trailers).map(([k, v]) => [k, String(v)] as [string, string]);
        if (trailers.length) stream.encodeTrailers(trailers);
        else stream.encodeData(new Uint8Array(0), true);
      });
      upstreamRes.on("error", upstreamReset);
    });
    upstreamReq.on("error", () => {
      if (finished) return;
      if (!res.headersSent) {
        const body = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
        stream.encodeHeaders([[":status", "503"], ["content-type", "text/plain"], ["content-length", String(body.length)]], false);
        stream.encodeData(Buffer.from(body), true);
      } else upstreamReset();
    });
    if (endStream) upstreamReq.end();
  };

  stream = chain.newStream(info, {
    onRequestHeaders: (head, endStream) => {
      const target = route ? config.httpClusters[route.cluster] : null;
      if (!target) {
        // Envoy's router answers 404 (NR) when no route matched; it passes through the encoders.
        stream.encodeHeaders([[":status", "404"]], true);
        return;
      }
      sendUpstream(target, head, endStream);
    },
    onRequestData: (data, endStream) => {
      if (!upstreamReq) return;
      if (data.length) upstreamReq.write(data);
      if (endStream) upstreamReq.end();
    },
    onRequestTrailers: () => upstreamReq?.end(),
    onCancel: () => upstreamReq?.destroy(),
  }, {
    onResponseHeaders: (head, endStream) => {
      const status = Number(head.find(([k]) => k === ":status")?.[1] ?? 502);
      const out: string[] = [];
      for (const [k, v] of head) if (!k.startsWith(":") && !HOP_BY_HOP.has(k)) out.push(k, v);
      res.writeHead(status, out);
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
    onLog: (record) => log(accessLogLine({ ...record, routeName: info.routeName, durationMs: performance.now() - started })),
  });

  res.on("close", () => {
    if (!finished) {
      finished = true;
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
