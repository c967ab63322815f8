/**
 * Configurations a plugin must refuse at configure time, with one error line naming the field
 * (decisions G3, G7), instead of accepting a value that later misbehaves on every request.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost } from "../../host/direct.ts";
import { pluginWasm } from "../support/paths.ts";
import { refusal, accepted } from "../support/configure.ts";

const REDIS = { service_name: "local-redis.static", service_port: 80 };
const RATELIMIT = { rule_name: "r", global_threshold: { token_per_minute: 5 }, redis: REDIS };

test("a token_per_* past 2^53 - 1 (what the Lua scripts count exactly) is refused naming the field, not accepted to reject everyone (G7)", async () => {
  for (const huge of [9223372036854775807n, 1e19, 1e300, 9007199254740992, -1e300, -9223372036854775808n]) {
    const text = JSON.stringify({ ...RATELIMIT, global_threshold: { token_per_minute: 0 } }).replace('"token_per_minute":0', `"token_per_minute":${huge}`);
    assert.deepEqual(await refusal("ai-token-ratelimit", text), [`ai-token-ratelimit: global_threshold.token_per_minute must be between 1 and 9007199254740991, got ${typeof huge === "bigint" ? huge : JSON.stringify(huge)}`]);
  }
  const item = { ...RATELIMIT, global_threshold: undefined, rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_day: "9007199254740993" }] }] };
  assert.deepEqual(await refusal("ai-token-ratelimit", item), ['ai-token-ratelimit: rule_items[0].limit_keys[0].token_per_day must be between 1 and 9007199254740991, got "9007199254740993"']);
  await accepted("ai-token-ratelimit", { ...RATELIMIT, global_threshold: { token_per_minute: 9007199254740991, token_per_second: "9007199254740991" } });
});

test("a count that is not positive keeps Higress's words and names the field", async () => {
  assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, global_threshold: { token_per_hour: -100 } }), [
    "ai-token-ratelimit: failed to parse global_threshold: 'token_per_hour' must be a positive integer, got -100 at global_threshold.token_per_hour",
  ]);
});

test("rejected_code must be an error status, 400-599: a 2xx or 3xx rejection would read as success", async () => {
  for (const code of [200, 204, 302, 100, 399, 600]) {
    assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, rejected_code: code }), [`ai-token-ratelimit: rejected_code must be between 400 and 599, got ${code}`]);
  }
  for (const code of [400, 429, 503, 599, "418"]) await accepted("ai-token-ratelimit", { ...RATELIMIT, rejected_code: code });
});

test("admin_path must be a path starting with \"/\" (Higress concatenates whatever it is given)", async () => {
  const quota = { admin_consumer: "admin", redis: REDIS };
  for (const path of ["quota", "/", "quota/refresh"]) {
    assert.deepEqual(await refusal("ai-quota", { ...quota, admin_path: path }), [`ai-quota: admin_path must be a path starting with "/", e.g. "/quota", got "${path}"`]);
  }
  assert.deepEqual(await refusal("ai-quota", { ...quota, _rules_: [{ _match_route_: ["r"], ...quota, admin_path: "x" }] }), ['ai-quota: _rules_[0].admin_path must be a path starting with "/", e.g. "/quota", got "x"']);
  for (const path of ["", "/budget", "/a/b"]) await accepted("ai-quota", { ...quota, admin_path: path });
});

test("a configuration nested 5 000 deep is refused naming the path where the nesting limit was hit", async () => {
  const deep = (open: string, inner: string, close: string) => open.repeat(5000) + inner + close.repeat(5000);
  const keyAuth = `{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}],"extra":${deep("[", "", "]")}}`;
  assert.deepEqual(await refusal("key-auth", keyAuth), [`key-auth: extra${"[0]".repeat(64)}: nesting deeper than 64 at offset ${keyAuth.indexOf("[[") + 64}`]);
  const rule = `{"admin_consumer":"a","redis":{"service_name":"r.static"},"_rules_":[{"_match_route_":["r"],"admin_consumer":"b","redis":${deep('{"a":', "1", "}")}}]}`;
  assert.deepEqual(await refusal("ai-quota", rule), [`ai-quota: _rules_[0].redis${".a".repeat(62)}: nesting deeper than 64 at offset ${rule.indexOf('{"a":') + 62 * 5}`]);
});

test("every redis.* refusal names its field, in the global config and in a rule", async () => {
  const quota = { admin_consumer: "admin" };
  assert.deepEqual(await refusal("ai-quota", { ...quota, redis: { service_name: "" } }), ["ai-quota: redis service name must not be empty at redis.service_name"]);
  assert.deepEqual(await refusal("ai-quota", { ...quota, redis: { port: 80 } }), ["ai-quota: redis service name must not be empty at redis.service_name"]);
  assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, redis: undefined }), ["ai-token-ratelimit: missing redis in config at redis"]);
  assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, _rules_: [{ _match_domain_: ["a.test"], ...RATELIMIT, redis: { service_name: "" } }] }), ["ai-token-ratelimit: redis service name must not be empty at _rules_[0].redis.service_name"]);
  assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, redis: { ...REDIS, password: 42 } }), ["ai-token-ratelimit: redis.password must be a string"]);
  assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, redis: "r.static" }), ['ai-token-ratelimit: redis must be an object, got "r.static"']);
  // Higress's words that name no path say which rule they came from.
  assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, _rules_: [{ _match_domain_: ["a.test"], ...RATELIMIT, rule_name: undefined }] }), ["ai-token-ratelimit: missing rule_name in config (in _rules_[0])"]);
});

test("a huge count in the global config is refused even with _rules_, where Higress drops a global config it cannot parse", async () => {
  const rule = { _match_domain_: ["a.test"], ...RATELIMIT };
  assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, global_threshold: { token_per_minute: 1e19 }, _rules_: [rule] }), [
    "ai-token-ratelimit: global_threshold.token_per_minute must be between 1 and 9007199254740991, got 10000000000000000000",
  ]);
  // Higress's own refusal keeps Higress's meaning: the global config is dropped, and we say so.
  const host = await createHost({ name: "ai-token-ratelimit", wasm: pluginWasm("ai-token-ratelimit"), config: { ...RATELIMIT, global_threshold: { token_per_minute: -5 }, _rules_: [rule] } });
  assert.deepEqual(host.logs(3).map((l) => l.message).filter((m) => m.startsWith("ai-token-ratelimit:")), ["ai-token-ratelimit: global config ignored (as Higress, with _rules_): failed to parse global_threshold: 'token_per_minute' must be a positive integer, got -5 at global_threshold.token_per_minute"]);
});

test("a consumer name that is no header value (CR, LF, NUL) is refused naming it: it would be sent as X-Mse-Consumer", async () => {
  const keyAuth = (name: string) => ({ keys: ["x-api-key"], in_header: true, consumers: [{ name: "ok", credential: "k0" }, { name, credential: "k1" }] });
  const message = (shown: string) => `key-auth: consumers[1].name must be a valid header value (no control characters such as CR, LF or NUL), got ${shown}`;
  assert.deepEqual(await refusal("key-auth", keyAuth("a\r\nx-evil: 1")), [message('"a\\r\\nx-evil: 1"')]);
  assert.deepEqual(await refusal("key-auth", keyAuth("a\u0000")), [message('"a\\u0000"')]);
  await accepted("key-auth", keyAuth("a\tb é"));
});

test("estimate_bytes_per_token outside 1-1024 is refused naming the field, in both AI plugins", async () => {
  const quota = { admin_consumer: "a", redis: REDIS };
  for (const [plugin, config] of [["ai-quota", quota], ["ai-token-ratelimit", RATELIMIT]] as const) {
    for (const bad of [0, 1025, -4]) {
      assert.deepEqual(await refusal(plugin, { ...config, estimate_bytes_per_token: bad }), [`${plugin}: estimate_bytes_per_token must be between 1 and 1024, got ${bad}`]);
    }
    await accepted(plugin, { ...config, estimate_bytes_per_token: 1024, estimate_missing_usage: false });
  }
});

test("reserve_output_tokens outside 0 to 1000000000 and a reserve_tokens that is no boolean are refused naming the field, in both AI plugins (issue 19)", async () => {
  const quota = { admin_consumer: "a", redis: REDIS };
  for (const [plugin, config] of [["ai-quota", quota], ["ai-token-ratelimit", RATELIMIT]] as const) {
    for (const bad of [-1, 1_000_000_001]) {
      assert.deepEqual(await refusal(plugin, { ...config, reserve_tokens: true, reserve_output_tokens: bad }), [`${plugin}: reserve_output_tokens must be between 0 and 1000000000, got ${bad}`]);
    }
    assert.deepEqual(await refusal(plugin, { ...config, reserve_tokens: "yes" }), [`${plugin}: reserve_tokens must be true or false, got "yes"`]);
    await accepted(plugin, { ...config, reserve_tokens: true, reserve_output_tokens: 0 });
    await accepted(plugin, { ...config, reserve_tokens: "true", reserve_output_tokens: 1_000_000_000 });
  }
});
