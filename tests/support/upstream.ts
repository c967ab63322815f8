/**
 * An OpenAI-compatible upstream on loopback for end-to-end tests: chat/completions, completions,
 * embeddings, responses, Anthropic messages and Gemini generateContent, in JSON and SSE, with
 * deterministic usage, and a record of every request it received.
 */
import http from "node:http";
import https from "node:https";
import { gzipSync, deflateSync, brotliCompressSync } from "node:zlib";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface UpstreamOptions {
  /** Completion tokens every answer reports; default 12. */
  completionTokens?: number;
  /** Split each response body into writes of this many bytes (flushed one by one). */
  chunkSize?: number;
  /** Delay between writes, ms. */
  chunkDelayMs?: number;
  /** Delay before the status and headers, ms (an upstream that takes this long to start answering). */
  headersDelayMs?: number;
  /** Answer every request with this status and an OpenAI-style error body. */
  errorStatus?: number;
  /** Send bodies in this encoding whatever the request accepts (an upstream that ignores Accept-Encoding). */
  encoding?: Encoding;
  /** Compress as a real server does: with the first of gzip, deflate, br that the request's Accept-Encoding lists. */
  honourAcceptEncoding?: boolean;
  /** Answers report no usage at all (an upstream that never does). */
  noUsage?: boolean;
  /** Write the body up to the first occurrence of this text, then stall with the connection open. */
  stallAt?: string;
  /** Listen address; loopback unless a container needs to reach it. */
  host?: string;
  /** Listen port; 0 picks a free one. */
  port?: number;
  /** Serve https with this key and certificate (tests/support/tls.ts makes a pair). */
  tls?: { key: string; cert: string };
  /** Destroy the socket after writing this many body bytes. */
  resetAfterBytes?: number;
  /** Usage every answer reports, as JSON number text written verbatim (`"9223372036854775807"`, `"1e30"`, `"-5"`). */
  reportedUsage?: ReportedUsage;
  /** The model every answer names, instead of the request's. */
  model?: string;
  /** Serve paths as an upstream that normalises them does (see normalisedPath). */
  normalisePaths?: boolean;
  /** Line end of SSE bodies (SSE allows LF, CRLF and CR); default LF. */
  sseLineEnd?: "\n" | "\r\n" | "\r";
  /** Streamed chats: a `: keep-alive` comment event before the first and the last data event. */
  sseComments?: boolean;
  /**
   * Streamed chats asking for usage: report it on the finish_reason chunk, beside its choices, as
   * DashScope's compatible mode does, instead of in a usage-only chunk with `"choices": []`.
   */
  usageWithChoices?: boolean;
}

/** Counts in place of the word count (`prompt`) and `completionTokens`; the total is their sum as JavaScript adds them. */
export interface ReportedUsage {
  prompt?: string;
  completion?: string;
}

export type Encoding = "gzip" | "deflate" | "br";

const ENCODERS: Record<Encoding, (body: string) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };

/** The first encoding of ours that an Accept-Encoding value lists (q-values ignored, as most servers do). */
function acceptedEncoding(accept: string | undefined): Encoding | undefined {
  const listed = (accept ?? "").toLowerCase().split(",").map((part) => part.split(";")[0].trim());
  return listed.find((name): name is Encoding => name in ENCODERS);
}

/** Removes every "usage" member and usage-only chunk, as an upstream that reports none. */
function withoutUsage(body: string, type: string): string {
  const strip = (text: string) => JSON.stringify(JSON.parse(text), (key, value) => (key === "usage" || key === "usageMetadata" ? undefined : value));
  if (!type.includes("event-stream")) return strip(body);
  return body
    .split("\n\n")
    .filter((event) => !event.includes('"choices":[]'))
    .map((event) => event.replace(/^data: (\{.*\})$/m, (_, json) => `data: ${strip(json)}`))
    .join("\n\n");
}

export interface Upstream {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  options: UpstreamOptions;
  /** Prompt tokens the upstream reports for a request body (a word count of its messages). */
  promptTokens(body: string): number;
  close(): Promise<void>;
}

const ANSWER = "I am a test model, answering from the loopback upstream.";

/** Counts words in every string field named content/input/text/prompt, so usage is predictable. */
export function promptTokensOf(body: string): number {
  let count = 0;
  const visit = (value: unknown, key = ""): void => {
    if (typeof value === "string" && ["content", "input", "text", "prompt"].includes(key)) count += value.split(/\s+/).filter(Boolean).length;
    else if (Array.isArray(value)) value.forEach((v) => visit(v, key));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) visit(v, k);
  };
  try {
    visit(JSON.parse(body));
  } catch {
    return 1;
  }
  return Math.max(1, count);
}

function sse(events: Array<{ event?: string; data?: unknown; comment?: string }>, lineEnd = "\n"): string {
  const field = (e: { event?: string; data?: unknown; comment?: string }) =>
    e.comment !== undefined ? `: ${e.comment}\n` : (e.event ? `event: ${e.event}\n` : "") + `data: ${typeof e.data === "string" ? e.data : JSON.stringify(e.data)}\n`;
  return events.map((e) => field(e) + "\n").join("").replaceAll("\n", lineEnd);
}

function openAiUsage(prompt: number, completion: number) {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/**
 * What an upstream that normalises paths serves: case folded, `;` parameters and doubled or
 * trailing slashes dropped, and Ollama's `/api/chat` answered as chat completions.
 */
export function normalisedPath(path: string): string {
  const folded = path.toLowerCase().replace(/;[^/]*/g, "").replace(/\/{2,}/g, "/").replace(/(.)\/$/, "$1");
  return folded === "/api/chat" ? "/v1/chat/completions" : folded;
}

/** The body and content type for one request; `stream` decides JSON vs SSE as each API does. */
function answer(path: string, url: URL, request: Record<string, any>, prompt: number, completion: number, options: UpstreamOptions = {}): { type: string; body: string } {
  const model = options.model ?? String(request.model ?? "test-model");
  const created = 1_700_000_000;
  const stream = request.stream === true;
  if (path.endsWith("/chat/completions")) {
    if (!stream) {
      return {
        type: "application/json",
        body: JSON.stringify({
          id: "chatcmpl-test", object: "chat.completion", created, model,
          choices: [{ index: 0, message: { role: "assistant", content: ANSWER }, finish_reason: "stop", logprobs: null }],
          usage: openAiUsage(prompt, completion),
        }),
      };
    }
    const withUsage = request.stream_options?.include_usage === true;
    const usageWithChoices = withUsage && options.usageWithChoices === true;
    const chunk = (delta: object, finish: string | null, usage: object | null = null) => ({
      id: "chatcmpl-test", object: "chat.completion.chunk", created, model,
      choices: usage && finish === "usage" ? [] : [{ index: 0, delta, finish_reason: finish, logprobs: null }],
      ...(withUsage ? { usage } : {}),
    });
    const events: Array<{ data?: unknown; comment?: string }> = [
      { data: chunk({ role: "assistant", content: "" }, null) },
      ...ANSWER.split(" ").map((word, i) => ({ data: chunk({ content: (i ? " " : "") + word }, null) })),
      { data: chunk({}, "stop", usageWithChoices ? openAiUsage(prompt, completion) : null) },
    ];
    if (withUsage && !usageWithChoices) events.push({ data: chunk({}, "usage", openAiUsage(prompt, completion)) });
    events.push({ data: "[DONE]" });
    if (options.sseComments) {
      events.unshift({ comment: "keep-alive" });
      events.splice(events.length - 1, 0, { comment: "keep-alive" });
    }
    return { type: "text/event-stream", body: sse(events, options.sseLineEnd) };
  }
  if (path.endsWith("/completions")) {
    return {
      type: "application/json",
      body: JSON.stringify({ id: "cmpl-test", object: "text_completion", created, model, choices: [{ text: ANSWER, index: 0, logprobs: null, finish_reason: "stop" }], usage: openAiUsage(prompt, completion) }),
    };
  }
  if (path.endsWith("/embeddings")) {
    return {
      type: "application/json",
      body: JSON.stringify({ object: "list", data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2, 0.3] }], model, usage: { prompt_tokens: prompt, total_tokens: prompt } }),
    };
  }
  if (path.endsWith("/responses")) {
    const usage = { input_tokens: prompt, output_tokens: completion, total_tokens: prompt + completion };
    const response = { id: "resp_test", object: "response", created_at: created, status: "completed", model, output: [{ type: "message", id: "msg_test", status: "completed", role: "assistant", content: [{ type: "output_text", text: ANSWER, annotations: [] }] }], usage };
    if (!stream) return { type: "application/json", body: JSON.stringify(response) };
    return {
      type: "text/event-stream",
      body: sse([
        { event: "response.created", data: { type: "response.created", response: { ...response, status: "in_progress", usage: null } } },
        { event: "response.output_text.delta", data: { type: "response.output_text.delta", item_id: "msg_test", output_index: 0, content_index: 0, delta: ANSWER } },
        { event: "response.completed", data: { type: "response.completed", response } },
      ]),
    };
  }
  if (path.endsWith("/messages")) {
    const message = { id: "msg_test", type: "message", role: "assistant", model, content: [{ type: "text", text: ANSWER }], stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: prompt, output_tokens: completion } };
    if (!stream) return { type: "application/json", body: JSON.stringify(message) };
    return {
      type: "text/event-stream",
      body: sse([
        { event: "message_start", data: { type: "message_start", message: { ...message, content: [], stop_reason: null, usage: { input_tokens: prompt, output_tokens: 1 } } } },
        { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } },
        { event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: ANSWER } } },
        { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
        { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: completion } } },
        { event: "message_stop", data: { type: "message_stop" } },
      ]),
    };
  }
  if (path.includes(":generateContent") || path.includes(":streamGenerateContent")) {
    const piece = (text: string, usage: boolean) => ({
      candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: usage ? "STOP" : undefined, index: 0 }],
      ...(usage ? { usageMetadata: { promptTokenCount: prompt, candidatesTokenCount: completion, totalTokenCount: prompt + completion } } : {}),
      modelVersion: model,
    });
    if (path.includes(":generateContent")) return { type: "application/json", body: JSON.stringify(piece(ANSWER, true)) };
    const pieces = [piece("I am", false), piece(ANSWER.slice(4), true)];
    if (url.searchParams.get("alt") === "sse") return { type: "text/event-stream", body: sse(pieces.map((p) => ({ data: p }))) };
    return { type: "application/json", body: JSON.stringify(pieces, null, 2) };
  }
  return { type: "application/json", body: JSON.stringify({ ok: true, path }) };
}

// Numbers no answer holds otherwise, replaced by the reported text once the body is built (JSON.stringify
// cannot write 9223372036854775807 or 1e30 as given).
const PROMPT_MARK = 710_000_001;
const COMPLETION_MARK = 720_000_002;

function withReportedUsage(body: string, prompt: number, completion: number, reported: ReportedUsage): string {
  const promptText = reported.prompt ?? String(prompt);
  const completionText = reported.completion ?? String(completion);
  const totalText = JSON.stringify(Number(promptText) + Number(completionText));
  return body
    .replace(new RegExp(`\\b${prompt + completion}\\b`, "g"), totalText)
    .replace(new RegExp(`\\b${PROMPT_MARK}\\b`, "g"), promptText)
    .replace(new RegExp(`\\b${COMPLETION_MARK}\\b`, "g"), completionText);
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const requests: ReceivedRequest[] = [];
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://upstream");
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, rawHeaders: req.rawHeaders, body });
      if (options.errorStatus) {
        res.writeHead(options.errorStatus, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "upstream error", type: "server_error", code: null } }));
        return;
      }
      let request: Record<string, unknown> = {};
      try {
        request = JSON.parse(body || "{}");
      } catch {
        request = {};
      }
      const reported = options.reportedUsage;
      const prompt = reported?.prompt !== undefined ? PROMPT_MARK : promptTokensOf(body);
      const completion = reported?.completion !== undefined ? COMPLETION_MARK : options.completionTokens ?? 12;
      const answered = answer(options.normalisePaths ? normalisedPath(url.pathname) : url.pathname, url, request, prompt, completion, options);
      const type = answered.type;
      let out = reported ? withReportedUsage(answered.body, prompt, completion, reported) : answered.body;
      if (options.noUsage) out = withoutUsage(out, type);
      const stall = options.stallAt !== undefined ? out.indexOf(options.stallAt) : -1;
      if (stall >= 0) out = out.slice(0, stall);
      const encoding = options.encoding ?? (options.honourAcceptEncoding ? acceptedEncoding(req.headers["accept-encoding"]) : undefined);
      if (options.headersDelayMs) await new Promise((r) => setTimeout(r, options.headersDelayMs));
      res.writeHead(200, { "content-type": type, ...(encoding ? { "content-encoding": encoding } : {}) });
      const bytes = encoding ? ENCODERS[encoding](out) : Buffer.from(out);
      const size = options.chunkSize ?? bytes.length;
      for (let at = 0; at < bytes.length; at += size) {
        if (options.resetAfterBytes !== undefined && at >= options.resetAfterBytes) {
          res.socket?.destroy();
          return;
        }
        res.write(bytes.subarray(at, at + size));
        if (options.chunkDelayMs) await new Promise((r) => setTimeout(r, options.chunkDelayMs));
      }
      // Stalled: the connection stays open until the client or close() ends it.
      if (stall < 0) res.end();
    });
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls ? "https" : "http"}://${options.host ?? "127.0.0.1"}:${port}`,
    port,
    requests,
    options,
    promptTokens: promptTokensOf,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
