/** The chat every per-request figure measures: request, plugin configs, Redis and the response. */
import { GET, type Host, type DirectStream } from "../host/direct.ts";
import { RedisBridge } from "../host/redis-bridge.ts";
import { startRedis, type RedisServer } from "../tests/support/redis.ts";

export const CHAT_RESPONSE = JSON.stringify({
  id: "chatcmpl-1", object: "chat.completion", created: 1, model: "qwen-max",
  choices: [{ index: 0, message: { role: "assistant", content: "x".repeat(600) }, finish_reason: "stop" }],
  usage: { prompt_tokens: 10, completion_tokens: 150, total_tokens: 160 },
});
export const CHAT_REQUEST = JSON.stringify({ model: "qwen-max", messages: [{ role: "user", content: "Who are you?" }] });
// Envoy's default log level (info): debug lines are not built, as in production.
export const LOG_LEVEL = 2;

// x-mse-consumer as key-auth sets it, for ai-quota and ai-statistics alone (in the chain key-auth replaces it).
export const USER1 = [["x-api-key", "user1-key"], ["content-type", "application/json"], ["x-mse-consumer", "aliyun-user1"]] as Array<[string, string]>;
const REDIS = { service_name: "bench-redis.static" };
/** Each plugin's bench config, in Higress's order (key-auth, ai-statistics, ai-quota, ai-token-ratelimit). */
export const PLUGIN_CONFIGS: Record<string, object> = {
  "key-auth": { keys: ["x-api-key"], in_header: true, consumers: [{ name: "aliyun-user1", credential: "user1-key" }, { name: "aliyun-user2", credential: "user2-key" }] },
  "ai-statistics": {},
  "ai-quota": { admin_consumer: "aliyun-admin", redis: REDIS },
  "ai-token-ratelimit": { rule_name: "bench", rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_minute: 1_000_000_000_000 }] }], redis: REDIS },
};

/**
 * The AI plugins' cases measured both ways (issue 19): each plugin's name is its config with
 * reserve_tokens off, as Higress; `<name>, reserve_tokens` the same config with it on, where the
 * check is one EVAL that reserves (CHAT_REQUEST sets no max_tokens: its bytes / 4 plus 256) and
 * the end settles the difference to the answer's 160 tokens with one DECRBY or EVAL, where the
 * option off charges them: 2 Redis calls per chat either way.
 */
export const RESERVED = ", reserve_tokens";
export const RESERVED_CONFIGS: Record<string, object> = Object.fromEntries(
  ["ai-quota", "ai-token-ratelimit"].map((name) => [name + RESERVED, { ...PLUGIN_CONFIGS[name], reserve_tokens: true }]),
);

/**
 * key-auth as the Higress console writes it, with `count` consumers on its three sources in turn
 * (header, query, Bearer) and aliyun-user1, whom USER1 authenticates as, last: a per-request loop
 * over consumers would show as 10 000 consumers costing more than 3.
 */
export function consoleKeyAuth(count: number): object {
  const sources = [
    { keys: ["X-API-KEY"], in_header: true, in_query: false, credential: (i: number) => `key-${i}` },
    { keys: ["api_key"], in_header: false, in_query: true, credential: (i: number) => `key-${i}` },
    { keys: ["Authorization"], in_header: true, in_query: false, credential: (i: number) => `Bearer sk-${i}` },
  ];
  const consumers = [];
  for (let i = 0; i < count - 1; i++) {
    const { credential, ...where } = sources[(i + 1) % 3];
    consumers.push({ name: `consumer-${i}`, ...where, credentials: [credential(i)] });
  }
  consumers.push({ name: "aliyun-user1", keys: ["X-API-KEY"], in_header: true, in_query: false, credentials: ["user1-key"] });
  return { global_auth: true, allow: [], keys: ["x-higress-dummy-key"], consumers };
}
export const KEY_AUTH_SCALE = [3, 10_000];

/** A fresh redis-server bridged as the plugins' cluster, with aliyun-user1's quota set high. */
export async function benchRedis(): Promise<{ redis: RedisServer; bridge: RedisBridge }> {
  const redis = await startRedis();
  const bridge = new RedisBridge({ "outbound|80||bench-redis.static": { host: "127.0.0.1", port: redis.port } });
  await redis.client.set("chat_quota:aliyun-user1", 1_000_000_000_000);
  return { redis, bridge };
}

/** One request through to the end of its response; waits while a Redis check holds the request. */
export async function chat(host: Host, response: (s: DirectStream) => void): Promise<void> {
  const s = host.newStream().sendRequestHeaders(GET("/v1/chat/completions", USER1), false).sendRequestBody(CHAT_REQUEST, true);
  await s.decided();
  response(s);
}
export const chatResponse = (s: DirectStream) =>
  s.sendResponseHeaders([[":status", "200"], ["content-type", "application/json"]]).sendResponseBody(CHAT_RESPONSE, true);

/** The chains measured whole: the charging plugins (as before ai-statistics), and the walkthrough's four. */
export const CHAINS: Record<string, string[]> = {
  "all three": ["key-auth", "ai-quota", "ai-token-ratelimit"],
  "all four (the walkthrough's)": ["key-auth", "ai-statistics", "ai-quota", "ai-token-ratelimit"],
};
