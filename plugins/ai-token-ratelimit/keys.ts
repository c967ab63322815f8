/**
 * The parts of ai-token-ratelimit's Redis keys, `KEY_PREFIX<rule_name>:<limit_type>:<window>:<rule_key>:<value>`
 * (config.ts's nameKeys writes them): the prefix, the limit types and the windows, which are also
 * config field names. Plain TypeScript as well as AssemblyScript: the host's dashboard
 * (host/dashboard/) reads the same keys.
 */

/** Every Redis key starts with this (R1). */
export const KEY_PREFIX = "higress-token-ratelimit:";

/** The four windows' config names, and their seconds (the `<window>` of a key), index for index. */
export const WINDOW_NAMES = ["token_per_second", "token_per_minute", "token_per_hour", "token_per_day"];
export const WINDOW_SECONDS = [1, 60, 3600, 86400];

/** In Higress's order; when several are present the last one wins (§3.3). */
export const LIMIT_TYPES = [
  "limit_by_header", "limit_by_param", "limit_by_cookie", "limit_by_per_header", "limit_by_per_param",
  "limit_by_per_cookie", "limit_by_consumer", "limit_by_per_consumer", "limit_by_per_ip",
];
