/**
 * The README's "Try it" session against a running `npm start`, with what each client was told:
 * the admin refreshes aliyun-user1's quota, aliyun-user1 chats (streamed, asking for usage, so
 * both durations are counted), chats again within the minute and gets 429, aliyun-user2 without
 * quota gets 403, and the admin reads the quota left. Every answer is checked on the way.
 */
import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { request, waitFor } from "./net.ts";
import { sourceConstant, sourceReply } from "./source-constants.ts";
import type { RunningStart } from "./npm-start.ts";

export const SESSION_QUOTA = 100;
export const SESSION_MODEL = "qwen-max";
const RESET_HEADER = sourceConstant("plugins/ai-token-ratelimit/errors.ts", "RESET_HEADER");
const RATE_LIMITED = sourceReply("plugins/ai-token-ratelimit/errors.ts", "RATE_LIMITED");
const NO_QUOTA = sourceReply("plugins/ai-quota/errors.ts", "NO_QUOTA");

export interface SessionOutcome {
  /** The usage the streamed chat's last event told aliyun-user1. */
  usage: { prompt: number; completion: number; total: number };
  /** From sending that chat to its last byte. */
  chatMs: number;
  /** The 429's seconds until its window ends, and when it came (Date.now()). */
  reset: number;
  rejectedAt: number;
  /** The quota the admin was told was left. */
  quotaLeft: number;
  /** When the last answer came (Date.now()). */
  endedAt: number;
}

export async function walkthroughSession(start: RunningStart): Promise<SessionOutcome> {
  const admin: Array<[string, string]> = [["x-api-key", start.key("aliyun-admin")]];
  const user = (name: string): Array<[string, string]> => [["x-api-key", start.key(name)], ["content-type", "application/json"]];
  const quotaPath = `${start.base}/v1/chat/completions/quota`;
  const refresh = await request(`${quotaPath}/refresh`, { headers: admin, body: `consumer=aliyun-user1&quota=${SESSION_QUOTA}` });
  assert.equal(refresh.body, "refresh quota successful");

  const chat = JSON.stringify({ model: SESSION_MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "Who are you?" }] });
  const sent = performance.now();
  const streamed = await request(`${start.base}/v1/chat/completions`, { headers: user("aliyun-user1"), body: chat });
  const chatMs = performance.now() - sent;
  assert.equal(streamed.status, 200, streamed.body);
  const told = streamed.body.split("\n").filter((l) => l.startsWith("data: {")).map((l) => JSON.parse(l.slice(6))).findLast((e) => e.usage)?.usage;
  assert.ok(told, `the stream told no usage: ${streamed.body}`);

  // Charged once the answer ended: the quota the admin reads drops.
  const quotaLeft = async () => JSON.parse((await request(`${quotaPath}?consumer=aliyun-user1`, { headers: admin })).body).quota as number;
  await waitFor(async () => (await quotaLeft()) < SESSION_QUOTA, 3000);

  const limited = await request(`${start.base}/v1/chat/completions`, { headers: user("aliyun-user1"), body: chat });
  const rejectedAt = Date.now();
  assert.deepEqual([limited.status, limited.body], [RATE_LIMITED.status, RATE_LIMITED.body]);
  const noQuota = await request(`${start.base}/v1/chat/completions`, { headers: user("aliyun-user2"), body: chat });
  assert.deepEqual([noQuota.status, noQuota.body], [NO_QUOTA.status, NO_QUOTA.body]);
  return {
    usage: { prompt: told.prompt_tokens, completion: told.completion_tokens, total: told.total_tokens },
    chatMs,
    reset: Number(limited.headers[RESET_HEADER]),
    rejectedAt,
    quotaLeft: await quotaLeft(),
    endedAt: Date.now(),
  };
}
