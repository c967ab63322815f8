/**
 * The plugin's metric names, after `route.<route>.upstream.<cluster>.model.<model>.consumer.<consumer>.metric.`
 * (aiMetricName, Higress's layout). All start `quota_`, as ai-token-ratelimit's start
 * `token_ratelimit_`, so none equals an ai-statistics name (A3). The README's "Metrics" list
 * names exactly these.
 */
/** Usage reported and charged. */
export const INPUT_TOKEN_METRIC = "quota_input_token";
export const OUTPUT_TOKEN_METRIC = "quota_output_token";
/** Estimates charged when no usage was reported (A4). */
export const ESTIMATED_TOKEN_METRIC = "quota_estimated_token";
/** The 403s "No quota left" (model `none`). */
export const NO_QUOTA_METRIC = "quota_rejected_no_quota";
/** The 400s for a request body the plugin cannot read as the upstream would. */
export const REQUEST_BODY_REFUSED_METRIC = "quota_rejected_request_body";
export const STORE_FAILURE_METRIC = "quota_store_failure";
export const CHARGE_FAILURE_METRIC = "quota_charge_failure";
