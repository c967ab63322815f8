/** The keys this plugin merges into the `ai_log` filter state (shared/usage/ai-log.ts); the README's "Access log" lists them. */
/** The check's decision: QUOTA_ALLOWED, QUOTA_REJECTED (403 no quota) or QUOTA_UNAVAILABLE (the store failed). */
export const STATUS_KEY = "quota_status";
export const QUOTA_ALLOWED = "allowed";
export const QUOTA_REJECTED = "no_quota";
export const QUOTA_UNAVAILABLE = "store_unavailable";
/** The tokens charged to the quota, input and output, when the response ends. */
export const INPUT_TOKEN_KEY = "quota_input_token";
export const OUTPUT_TOKEN_KEY = "quota_output_token";
/** `true` when the charge is an estimate (A4). */
export const ESTIMATED_KEY = "quota_estimated";
