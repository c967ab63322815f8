/**
 * The plugin's metric names, after `route.<route>.upstream.<cluster>.model.<model>.consumer.<consumer>.metric.`
 * (aiMetricName). All start `token_ratelimit_`, Higress's own rejection counter among them, so
 * none equals an ai-statistics name (A3). The README's "Metrics" list names exactly these.
 */
/** Requests rejected over a limit (Higress's name; model `none`). */
export const RATE_LIMITED_METRIC = "token_ratelimit_count";
/** Usage reported and charged. */
export const INPUT_TOKEN_METRIC = "token_ratelimit_input_token";
export const OUTPUT_TOKEN_METRIC = "token_ratelimit_output_token";
/** Estimates charged when no usage was reported (A4). */
export const ESTIMATED_TOKEN_METRIC = "token_ratelimit_estimated_token";
export const STORE_FAILURE_METRIC = "token_ratelimit_store_failure";
export const CHARGE_FAILURE_METRIC = "token_ratelimit_charge_failure";
/** The 400s for a request body the plugin cannot read as the upstream would. */
export const REQUEST_BODY_REFUSED_METRIC = "token_ratelimit_request_body_refused";
/** The 431s for a limited value too long to decide. */
export const VALUE_TOO_LONG_METRIC = "token_ratelimit_value_too_long";
