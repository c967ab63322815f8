/**
 * The costliest request a `regexp:` key can make (issue 15, item 11): the largest program accepted
 * (every state live on a run of `a`s) against a header as long as Envoy's default limit allows
 * (max_request_headers_kb 60, names and values counted), which spends the whole per-request
 * matching budget and is refused with 431; next to it, a realistic key deciding the same length.
 */
import { createHost, GET, type Host } from "../host/direct.ts";
import type { RedisBridge } from "../host/redis-bridge.ts";
import { pluginWasm } from "../tests/support/paths.ts";
import { measure, type Timing } from "./guest-time.ts";
import { USER1, LOG_LEVEL, PLUGIN_CONFIGS, chatResponse } from "./scenario.ts";

const ENVOY_HEADER_LIMIT = 60 * 1024;
/** 1997 states, the most MAX_STATES (2000) accepts of this shape. */
export const WORST_REGEX = "(a|b){0,399}c";
const REALISTIC_REGEX = "^user-[a-z0-9]+$";

/** `prefix` padded with `a`s so that the chat's headers total ENVOY_HEADER_LIMIT bytes. */
function paddedValue(prefix: string): string {
  const others = [...GET("/v1/chat/completions", USER1), ["x-user", prefix]];
  return prefix + "a".repeat(ENVOY_HEADER_LIMIT - others.reduce((sum, [k, v]) => sum + k.length + v.length, 0));
}

async function limiterFor(pattern: string, redis: RedisBridge): Promise<Host> {
  const config = { ...PLUGIN_CONFIGS["ai-token-ratelimit"], rule_items: [{ limit_by_per_header: "x-user", limit_keys: [{ key: `regexp:${pattern}`, token_per_minute: 1_000_000_000_000 }] }] };
  return createHost({ wasm: pluginWasm("ai-token-ratelimit"), config, redis, logLevel: LOG_LEVEL });
}

/** Wasm time per request of both cases, interleaved as the chats are; keyed by pattern. */
export async function regexCost(redis: RedisBridge, requests: number, clockUs: number): Promise<Map<string, Timing & { status: number }>> {
  const cases = [];
  for (const [pattern, prefix, status] of [[WORST_REGEX, "", 431], [REALISTIC_REGEX, "user-", 200]] as const) {
    const host = await limiterFor(pattern, redis);
    const headers = GET("/v1/chat/completions", [...USER1, ["x-user", paddedValue(prefix)]]);
    cases.push({
      name: pattern, host, status, run: async () => {
        const s = host.newStream().sendRequestHeaders(headers, true);
        await s.decided();
        if (s.response() === null) chatResponse(s);
        if (s.response()?.status !== status) throw new Error(`bench: regexp:${pattern} answered ${s.response()?.status}, not ${status}`);
      },
    });
  }
  const times = await measure(cases, requests, 10, 20, clockUs);
  return new Map(cases.map((c) => [c.name, { ...times.get(c.name)!, status: c.status }]));
}
