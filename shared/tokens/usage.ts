// The token usage a response reported, as the plugins charge it.

/**
 * Every usage count read, and every sum of counts, saturates here: 2^53 - 1, the largest integer a
 * Lua number (a double) holds exactly. ai-token-ratelimit's charge passes through Lua and ai-quota's
 * through DECRBY, so a larger amount would be rounded, or printed by Lua in exponent form that
 * INCRBY refuses (charging nothing); and no sum of saturated counts can wrap an i64.
 */
export const USAGE_CAP: i64 = 9007199254740991;

/** `value` held to [0, USAGE_CAP]: a count is never negative and never past the cap. */
export function saturatedCount(value: i64): i64 {
  return value < 0 ? 0 : value > USAGE_CAP ? USAGE_CAP : value;
}

/** Model and token counts read from one response; found is false when no usage was reported. */
export class TokenUsage {
  found: bool = false;
  model: string = "";
  /** The chat id the response named, when its reader was asked for it (UsageReader.readsId); "" when none. */
  chatId: string = "";
  inputTokens: i64 = 0;
  outputTokens: i64 = 0;
  totalTokens: i64 = 0;
  /** True when the counts are the plugin's estimate (A4), not what the response reported. */
  estimated: bool = false;

  /** The amount charged, input + output as Higress, saturated at USAGE_CAP (never wrapped, never negative). */
  charge(): i64 {
    return saturatedCount(saturatedCount(this.inputTokens) + saturatedCount(this.outputTokens));
  }
}
