/** What ai-token-ratelimit answers; the README's error table lists exactly these (rejected_* configure the first). */

export const RESET_HEADER = "x-tokenratelimit-reset";
export const RETRY_AFTER_HEADER = "retry-after";
export const LIMIT_HEADER = "x-tokenratelimit-limit";
export const REMAINING_HEADER = "x-tokenratelimit-remaining";
export const POLICY_HEADER = "ratelimit-policy";
export const RATELIMIT_HEADER = "ratelimit";

export class RateLimitError {
  constructor(public status: u32, public body: string, public details: string) {}
}

/** The default rejection; `rejected_code` and `rejected_msg` replace status and body. */
export const RATE_LIMITED = new RateLimitError(429, "Too many requests", "ai-token-ratelimit.rejected");
/** Redis unreachable with `failure_mode_deny: true` (R4). */
export const STORE_UNAVAILABLE = new RateLimitError(503, "ai-token-ratelimit: the rate limit store is unavailable", "ai-token-ratelimit.store_unavailable");
/**
 * A value the `regexp:` keys could not be matched against within the per-request budget: which
 * limit applies is unknown, so the request is refused rather than let through unlimited (431:
 * the value is a header, a cookie in one, or a query in `:path`).
 */
export const VALUE_TOO_LONG = new RateLimitError(431, "ai-token-ratelimit: a value is too long to match the limit keys", "ai-token-ratelimit.value_too_long");
