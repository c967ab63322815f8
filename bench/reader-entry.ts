/** Benchmark entry: the token-usage reader alone in wasm, compiled by bench/run.ts (not a plugin). */
import { readUsage } from "../shared/tokens/index";

/** A pinned buffer of n bytes for the benchmark to fill. */
export function alloc(n: i32): usize {
  const buffer = new ArrayBuffer(n);
  __pin(changetype<usize>(buffer));
  return changetype<usize>(buffer);
}

/** Reads the buffer in chunks of chunkSize bytes; returns the output tokens so the work is used. */
export function run(buffer: usize, chunkSize: i32): i64 {
  return readUsage(changetype<ArrayBuffer>(buffer), chunkSize).outputTokens;
}
