/** The keys this plugin merges into the `ai_log` filter state (shared/usage/ai-log.ts); the README's "Access log" lists them. */
/** Higress's key and value, written when a request is rejected over a limit. */
export const STATUS_KEY = "token_ratelimit_status";
export const LIMITED_STATUS = "limited";
/** The tokens charged to the counters, input and output, when the response ends. */
export const INPUT_TOKEN_KEY = "token_ratelimit_input_token";
export const OUTPUT_TOKEN_KEY = "token_ratelimit_output_token";
/** `true` when the charge is an estimate (A4). */
export const ESTIMATED_KEY = "token_ratelimit_estimated";
