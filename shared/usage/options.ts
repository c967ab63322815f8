/**
 * How the AI plugins meter a stream, the same fields in both: stream-usage injection (A1), the
 * estimate charged when a metered response ends without usage (A4), and the reservation taken at
 * the check (reserve_tokens, issue 19). Parsed here once, so the two plugins cannot drift.
 */
import { ConfigObject } from "../json/index";

/** Config field names, as users write them. */
export const INJECT_STREAM_USAGE = "inject_stream_usage";
export const ESTIMATE_MISSING_USAGE = "estimate_missing_usage";
export const ESTIMATE_BYTES_PER_TOKEN = "estimate_bytes_per_token";
export const RESERVE_TOKENS = "reserve_tokens";
export const RESERVE_OUTPUT_TOKENS = "reserve_output_tokens";

/** Bytes of request or response body counted as one token by the estimate: about what BPE tokenizers give for English and JSON. */
export const DEFAULT_BYTES_PER_TOKEN: i32 = 4;
export const MAX_BYTES_PER_TOKEN: i32 = 1024;
/** Output tokens reserved for a request that sets no max_tokens (nor max_completion_tokens, max_output_tokens). */
export const DEFAULT_RESERVE_OUTPUT_TOKENS: i64 = 256;
/** More than any model writes in one answer; also keeps reservation arithmetic far from overflow. */
export const MAX_RESERVE_OUTPUT_TOKENS: i64 = 1_000_000_000;

export class UsageOptions {
  /** Add stream_options.include_usage to streaming requests that lack it. */
  inject: bool = true;
  /** Charge an estimate when a metered response ends without usage. */
  estimate: bool = true;
  bytesPerToken: i32 = DEFAULT_BYTES_PER_TOKEN;
  /** Reserve an estimate at the check and settle the difference at the end (default off, as Higress checks then charges). */
  reserve: bool = false;
  reserveOutputTokens: i64 = DEFAULT_RESERVE_OUTPUT_TOKENS;
  /** Also read the response's chat id (ai-statistics' `chat_id`); not a config field. */
  readChatId: bool = false;
}

/** Reads the metering fields of `fields`; errors name the field (reader.failed tells). */
export function parseUsageOptions(fields: ConfigObject): UsageOptions {
  const options = new UsageOptions();
  options.inject = fields.lenientBool(INJECT_STREAM_USAGE) != 0;
  options.estimate = fields.lenientBool(ESTIMATE_MISSING_USAGE) != 0;
  options.bytesPerToken = <i32>fields.int(ESTIMATE_BYTES_PER_TOKEN, DEFAULT_BYTES_PER_TOKEN, 1, MAX_BYTES_PER_TOKEN);
  options.reserve = fields.lenientBool(RESERVE_TOKENS) == 1;
  options.reserveOutputTokens = fields.int(RESERVE_OUTPUT_TOKENS, DEFAULT_RESERVE_OUTPUT_TOKENS, 0, MAX_RESERVE_OUTPUT_TOKENS);
  return options;
}
