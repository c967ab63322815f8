/**
 * Metric labels taken from traffic: the model a request or response names, the consumer in the
 * client-settable X-Mse-Consumer header. Each becomes one `.`-separated segment of an Envoy stat
 * name, which Envoy keeps for the life of the process and Higress's stats_tags split by regex on
 * `.model.<x>.consumer.` and the like. So such a label is cut to MAX_LABEL_LENGTH characters and
 * every character but `A-Z a-z 0-9 - _ : / @` becomes `_`: a `.` would open a fake segment
 * (`gpt.consumer.admin`), and the kept punctuation is what model names use (`Qwen/Qwen2.5-72B`,
 * `qwen2.5:7b`, `claude-3-5-sonnet@20240620`, which become `Qwen/Qwen2_5-72B`, `qwen2_5:7b` and
 * the last as it is).
 */

/** Longest label kept, in characters (and bytes: every character kept is ASCII). */
export const MAX_LABEL_LENGTH: i32 = 128;
const REPLACEMENT: u16 = 0x5f;

// Kept characters as bits of two words: codes 0-63 (`-` `/` `0`-`9` `:`) and 64-127 (`@` `A`-`Z`
// `_` `a`-`z`).
const KEPT_LOW: u64 = (<u64>1 << 0x2d) | (<u64>1 << 0x2f) | (<u64>0x7ff << 0x30);
const KEPT_HIGH: u64 = <u64>0x7ffffff | (<u64>1 << 31) | (<u64>0x3ffffff << 33);

@inline
function kept(c: u32): bool {
  if (c >= 128) return false;
  const word = c < 64 ? KEPT_LOW : KEPT_HIGH;
  return ((word >> <u64>(c & 63)) & 1) != 0;
}

/** The label for `value`: itself when it is short and clean (no allocation), else cut and cleaned. */
export function trafficLabel(value: string): string {
  const length = value.length;
  const source = changetype<usize>(value);
  let i = 0;
  while (i < length && i < MAX_LABEL_LENGTH && kept(<u32>load<u16>(source + (<usize>i << 1)))) i++;
  if (i == length) return value;
  const keep = min(length, MAX_LABEL_LENGTH);
  const label = changetype<string>(__new(<usize>keep << 1, idof<string>()));
  const out = changetype<usize>(label);
  for (let k = 0; k < keep; k++) {
    const c = load<u16>(source + (<usize>k << 1));
    store<u16>(out + (<usize>k << 1), kept(<u32>c) ? c : REPLACEMENT);
  }
  return label;
}
