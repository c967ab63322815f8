/** What key-auth's tests check: its replies as plugins/key-auth/errors.ts defines them, and the consumer the upstream was told. */
import assert from "node:assert/strict";
import type { RawResponse } from "./net.ts";
import { sourceReplyBody } from "./source-constants.ts";

const ERRORS = "plugins/key-auth/errors.ts";
export const NO_KEY = sourceReplyBody(ERRORS, "NO_KEY");
export const MULTI = sourceReplyBody(ERRORS, "MULTIPLE_KEYS");
export const INVALID = sourceReplyBody(ERRORS, "INVALID_KEY");
export const NOT_ALLOWED = sourceReplyBody(ERRORS, "NOT_ALLOWED");

/** Every X-Mse-Consumer value in raw headers (name, value, name, value…), in order. */
export function consumerHeaders(raw: string[] | undefined): string[] {
  const out: string[] = [];
  for (let i = 0; raw && i < raw.length; i += 2) if (raw[i].toLowerCase() === "x-mse-consumer") out.push(raw[i + 1]);
  return out;
}

/** A refusal: the status, the body, and the challenge on 401 only (K1). */
export function assertDenied(res: RawResponse, status: number, body: string): void {
  assert.equal(res.status, status);
  assert.equal(res.body, body);
  assert.equal(res.headers["www-authenticate"], status === 401 ? "Key realm=MSE Gateway" : undefined);
}
