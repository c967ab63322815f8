/** What ai-token-ratelimit answers; the README's error table lists exactly these (rejected_* configure the first). */

export const RESET_HEADER = "x-tokenratelimit-reset";
export const RETRY_AFTER_HEADER = "retry-after";
export const LIMIT_HEADER = "x-tokenratelimit-limit";
export const REMAINING_HEADER = "x-tokenratelimit-remaining";
export const POLICY_HEADER = "ratelimit-policy";
export const RATELIMIT_HEADER = "ratelimit";

import { LocalReply, INVALID_REQUEST, SERVER_ERROR } from "../../shared/reply/local-reply";

/** With `openai_errors`, each is sent as OpenAI error JSON with the type and code given here. */
export type RateLimitError = LocalReply;

/**
 * The default rejection; `rejected_code` and `rejected_msg` replace status and body (the message
 * becomes the JSON's `message`). Type and code are OpenAI's for a tokens-per-minute limit.
 */
export const RATE_LIMITED = new LocalReply(429, "Too many requests", "ai-token-ratelimit.rejected", "tokens", "rate_limit_exceeded");
/** Redis unreachable with `failure_mode_deny: true` (R4). */
export const STORE_UNAVAILABLE = new LocalReply(503, "ai-token-ratelimit: the rate limit store is unavailable", "ai-token-ratelimit.store_unavailable", SERVER_ERROR, "rate_limit_store_unavailable");
/**
 * A value the `regexp:` keys could not be matched against within the per-request budget: which
 * limit applies is unknown, so the request is refused rather than let through unlimited (431:
 * the value is a header, a cookie in one, or a query in `:path`).
 */
export const VALUE_TOO_LONG = new LocalReply(431, "ai-token-ratelimit: a value is too long to match the limit keys", "ai-token-ratelimit.value_too_long", INVALID_REQUEST, "value_too_long");
