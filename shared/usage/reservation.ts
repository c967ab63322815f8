/**
 * Reservations (reserve_tokens, issue 19): the check takes what a request may use from the budget
 * in the same atomic step that decides, so concurrent requests cannot all pass one check, and the
 * end of the stream settles the difference between what it used and what was reserved.
 */
import { TokenUsage } from "../tokens/index";
import { tokensOf } from "./estimate";
import { UsageOptions } from "./options";

/** A reservation fits no budget above this; Lua's numbers (doubles) still hold it exactly. */
export const MAX_RESERVATION: i64 = 1_000_000_000_000_000;

/**
 * What a request may use: its body as the A4 estimate reads a prompt (bytes / bytes_per_token),
 * plus its output limit (or reserve_output_tokens when it sets none) for each of its `n` choices.
 * A request without a body reserves nothing: it asks no model for tokens.
 */
export function reservationFor(requestBytes: u64, maxOutputTokens: i64, choices: i64, options: UsageOptions): i64 {
  if (requestBytes == 0) return 0;
  const output = maxOutputTokens >= 0 ? maxOutputTokens : options.reserveOutputTokens;
  const prompt = tokensOf(requestBytes, options.bytesPerToken);
  const n = max<i64>(choices, 1);
  if (output > 0 && n > (MAX_RESERVATION - prompt) / output) return MAX_RESERVATION;
  return prompt + output * n;
}

/**
 * What a reservation of `reserved` settles to once the stream is over, with `usage` what
 * StreamUsage.settle gave and `succeeded` whether a 2xx response started:
 * - the usage read, or, when none was reported, the A4 estimate: what the same stream is charged
 *   without a reservation, so turning reserve_tokens on changes when tokens are taken, not how many;
 * - the reservation itself for a 2xx response without usage when estimates are off: nothing else
 *   is known, and nothing served is free;
 * - 0 when nothing was served (no 2xx response: an upstream error, a later plugin's local reply, a
 *   client gone before the answer).
 */
export function settledTokens(usage: TokenUsage | null, succeeded: bool, reserved: i64): i64 {
  if (usage !== null) return usage.charge();
  return succeeded ? reserved : 0;
}
