/**
 * The replies the AI plugins send themselves (a rejection, a refusal, a failed store), in one of
 * two shapes: Higress's plain text (the default), or, with `openai_errors`, the error body OpenAI's
 * API sends, `{"error":{"message","type","param","code"}}` as application/json, so an OpenAI SDK
 * raises a typed error whose `code` says why (`rate_limit_exceeded`, `insufficient_quota`).
 */
import { Header, sendLocalResponse } from "../index";
import { jsonString } from "../json/index";

/** The AI plugins' config field. */
export const OPENAI_ERRORS = "openai_errors";
const JSON_CONTENT_TYPE = "application/json";

/** OpenAI's error types that several replies share (the plugins' errors.ts name the rest). */
export const INVALID_REQUEST = "invalid_request_error";
export const SERVER_ERROR = "server_error";

export class LocalReply {
  /**
   * `details` is Envoy's response code details; `errorType` and `errorCode` are the OpenAI error's
   * `type` and `code` (`code` "" is written as null).
   */
  constructor(public status: u32, public body: string, public details: string, public errorType: string = SERVER_ERROR, public errorCode: string = "") {}
}

/** The reply's body in OpenAI's error shape, with `message` in place of the reply's own text. */
export function openAiErrorBody(reply: LocalReply, message: string): string {
  const code = reply.errorCode.length > 0 ? jsonString(reply.errorCode) : "null";
  return '{"error":{"message":' + jsonString(message) + ',"type":' + jsonString(reply.errorType) + ',"param":null,"code":' + code + "}}";
}

/**
 * Sends `reply`: `status` and `message` replace the reply's own (ai-token-ratelimit's
 * rejected_code / rejected_msg); `headers` are added (rate-limit headers), and with `openAi`
 * the body is OpenAI's error JSON with its content-type.
 */
export function sendReply(reply: LocalReply, openAi: bool, headers: Array<Header> | null = null, status: u32 = 0, message: string | null = null): void {
  const text = message !== null ? message : reply.body;
  let all = headers;
  if (openAi) {
    // A copy: the caller's list stays as it was given.
    const copy = headers !== null ? headers.slice(0) : new Array<Header>();
    copy.push(new Header("content-type", JSON_CONTENT_TYPE));
    all = copy;
  }
  sendLocalResponse(status != 0 ? status : reply.status, reply.details, String.UTF8.encode(openAi ? openAiErrorBody(reply, text) : text), all);
}
