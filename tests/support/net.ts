/** Loopback helpers for tests: free ports, waiting, and raw HTTP requests fetch would refuse. */
import net from "node:net";
import http from "node:http";

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls until the predicate holds; rejects after timeoutMs. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 2000, stepMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  /** The body as received, for compressed or binary answers. */
  bytes: Buffer;
}

/** One HTTP/1.1 request; headers may repeat (pairs) and the path is sent as given. */
export async function request(url: string, options: { method?: string; path?: string; headers?: Array<[string, string]>; body?: string | Uint8Array } = {}): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname,
      port: target.port,
      method: options.method ?? (options.body !== undefined ? "POST" : "GET"),
      path: options.path ?? target.pathname + target.search,
      // Raw header arrays skip Node's automatic Host; add it unless the test sets its own.
      headers: (options.headers ?? []).some(([k]) => k.toLowerCase() === "host")
        ? (options.headers ?? []).flat()
        : [["host", target.host], ...(options.headers ?? [])].flat(),
      agent: false,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: bytes.toString("utf8"), bytes });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}
