/**
 * An OpenAI-compatible upstream on loopback for end-to-end tests: chat/completions, completions,
 * embeddings, responses, Anthropic messages and Gemini generateContent, in JSON and SSE, with
 * deterministic usage, and a record of every request it received.
 */
import http from "node:http";
import { gzipSync } from "node:zlib";
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
  /** Answer every request with this status and an OpenAI-style error body. */
  errorStatus?: number;
  /** Send bodies gzip-compressed with `content-encoding: gzip`. */
  gzip?: boolean;
  /** Listen address; loopback unless a container needs to reach it. */
  host?: string;
  /** Listen port; 0 picks a free one. */
  port?: number;
  /** Destroy the socket after writing this many body bytes. */
  resetAfterBytes?: number;
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

/** The body and content type for one request; `stream` decides JSON vs SSE as each API does. */
function answer(path: string, url: URL, request: Record<string, any>, prompt: number, completion: number, options: UpstreamOptions = {}): { type: string; body: string } {
  const model = String(request.model ?? "test-model");
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

export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
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
      const prompt = promptTokensOf(body);
      const { type, body: out } = answer(url.pathname, url, request, prompt, options.completionTokens ?? 12, options);
      res.writeHead(200, { "content-type": type, ...(options.gzip ? { "content-encoding": "gzip" } : {}) });
      const bytes = options.gzip ? gzipSync(out) : Buffer.from(out);
      const size = options.chunkSize ?? bytes.length;
      for (let at = 0; at < bytes.length; at += size) {
        if (options.resetAfterBytes !== undefined && at >= options.resetAfterBytes) {
          res.socket?.destroy();
          return;
        }
        res.write(bytes.subarray(at, at + size));
        if (options.chunkDelayMs) await new Promise((r) => setTimeout(r, options.chunkDelayMs));
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}`,
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
