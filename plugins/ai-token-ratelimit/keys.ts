/**
 * Every Redis key of ai-token-ratelimit starts with this (R1), then `<rule_name>:` (config.ts's
 * nameKeys writes the rest). Pure: the host's dashboard (host/dashboard/) reads the same keys.
 */
export const KEY_PREFIX = "higress-token-ratelimit:";
