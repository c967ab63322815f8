/**
 * The plugin's metric names, after `route.<route>.upstream.<cluster>.model.<model>.consumer.<consumer>.metric.`
 * (aiMetricName, Higress's layout), which /stats/prometheus shows as
 * `route_upstream_model_consumer_metric_<name>{ai_route,ai_cluster,ai_model,ai_consumer}`. They are
 * Higress ai-statistics' own names, unprefixed (ai-quota's start `quota_`, ai-token-ratelimit's
 * `token_ratelimit_`, so none of theirs equals one of these): a route must never run this plugin and
 * Higress's ai-statistics together, or every token would be counted twice. All are counters, added
 * once per answer that reported usage (README, "Metrics and access log").
 */
/** Tokens the answer reported: prompt, completion, and the total (as reported, else their sum). */
export const INPUT_TOKEN_METRIC = "input_token";
export const OUTPUT_TOKEN_METRIC = "output_token";
export const TOTAL_TOKEN_METRIC = "total_token";
/** Milliseconds from the request's headers to the answer's last byte, summed; and the answers summed. */
export const SERVICE_DURATION_METRIC = "llm_service_duration";
export const DURATION_COUNT_METRIC = "llm_duration_count";
/** Streamed answers only: milliseconds from the request's headers to the answer's first byte, summed; and the streams summed. */
export const FIRST_TOKEN_DURATION_METRIC = "llm_first_token_duration";
export const STREAM_DURATION_COUNT_METRIC = "llm_stream_duration_count";
