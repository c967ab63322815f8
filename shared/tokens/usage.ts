// The token usage a response reported, as the plugins charge it.

/** Model and token counts read from one response; found is false when no usage was reported. */
export class TokenUsage {
  found: bool = false;
  model: string = "";
  inputTokens: i64 = 0;
  outputTokens: i64 = 0;
  totalTokens: i64 = 0;
  /** True when the counts are the plugin's estimate (A4), not what the response reported. */
  estimated: bool = false;

  /** The amount charged, input + output, as Higress. */
  charge(): i64 {
    return this.inputTokens + this.outputTokens;
  }
}
