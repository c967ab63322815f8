/**
 * The estimate charged for a metered response that ended without usage (decision A4): a client
 * that hung up, an upstream that reset or reports none, a body the reader cannot read. Nothing
 * served is free, so the estimate errs towards what was visibly exchanged:
 *   input  = request body bytes / bytes_per_token (the prompt and its JSON framing);
 *   output = one token per SSE data event when the response was a readable stream (a streamed
 *            chunk carries about one token, and counting bytes would charge the framing twenty
 *            times over), else response body bytes / bytes_per_token.
 * Each part is rounded up; a request without a body is never estimated (GET /v1/models is no
 * LLM call).
 */
import { TokenUsage } from "../tokens/index";

/** Whole tokens for `bytes`, rounded up. */
export function tokensOf(bytes: u64, bytesPerToken: i32): i64 {
  const per = <u64>max(bytesPerToken, 1);
  return <i64>((bytes + per - 1) / per);
}

/** The estimated usage, or null when the request carried no body. */
export function estimateUsage(requestBytes: u64, responseBytes: u64, sseEvents: i32, bytesPerToken: i32): TokenUsage | null {
  if (requestBytes == 0) return null;
  const usage = new TokenUsage();
  usage.found = true;
  usage.estimated = true;
  usage.inputTokens = tokensOf(requestBytes, bytesPerToken);
  usage.outputTokens = sseEvents >= 0 ? <i64>sseEvents : tokensOf(responseBytes, bytesPerToken);
  usage.totalTokens = usage.inputTokens + usage.outputTokens;
  return usage;
}
