/**
 * The keys this plugin merges into the `ai_log` filter state (shared/usage/ai-log.ts), Higress
 * ai-statistics' default ones; the README's "Metrics and access log" lists them. Configured
 * attributes add their own keys.
 */
/** What the answer reported: its model (else the request's), and its tokens. */
export const MODEL_KEY = "model";
export const INPUT_TOKEN_KEY = "input_token";
export const OUTPUT_TOKEN_KEY = "output_token";
export const TOTAL_TOKEN_KEY = "total_token";
/** Milliseconds from the request's headers to the answer's first byte (streams only) and to its last. */
export const FIRST_TOKEN_DURATION_KEY = "llm_first_token_duration";
export const SERVICE_DURATION_KEY = "llm_service_duration";
/** RESPONSE_STREAM for an SSE answer, RESPONSE_NORMAL for any other. */
export const RESPONSE_TYPE_KEY = "response_type";
export const RESPONSE_STREAM = "stream";
export const RESPONSE_NORMAL = "normal";
/** The answer's id (`id`, `response.id`, `responseId` or `message.id`). */
export const CHAT_ID_KEY = "chat_id";
/** The user turns of the request body. */
export const CHAT_ROUND_KEY = "chat_round";
/** The route's API name (the first three `@` parts of a route name that has them), else `-`. */
export const API_KEY = "api";
/** The session header's value (session_id_header, else Higress's agent session headers). */
export const SESSION_ID_KEY = "session_id";
