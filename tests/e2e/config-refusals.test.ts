/**
 * Configurations a plugin must refuse at configure time, with one error line naming the field
 * (decisions G3, G7), instead of accepting a value that later misbehaves on every request.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHost } from "../host/direct.ts";
import type { LogEntry } from "../host/stream-api.ts";
import { pluginWasm } from "../support/paths.ts";

const REDIS = { service_name: "local-redis.static", service_port: 80 };
const RATELIMIT = { rule_name: "r", global_threshold: { token_per_minute: 5 }, redis: REDIS };

/** The plugin's own error lines when configure refused `config`; fails the test when it was accepted. */
async function refusal(plugin: string, config: object | string): Promise<string[]> {
  try {
    const host = await createHost({ name: plugin, wasm: pluginWasm(plugin), config });
    assert.equal(host.chain.failed(), false, "the VM never trapped");
  } catch (e) {
    const logs = (e as { logs?: LogEntry[] }).logs ?? [];
    assert.ok(!logs.some((l) => /Wasm VM failed: /.test(l.message)), "configure refused, it did not trap");
    return logs.filter((l) => l.level >= 4 && !l.message.startsWith("Wasm VM failed to initialize")).map((l) => l.message);
  }
  assert.fail(`${plugin} accepted ${typeof config === "string" ? config.slice(0, 80) : JSON.stringify(config)}`);
}

async function accepted(plugin: string, config: object): Promise<void> {
  const host = await createHost({ name: plugin, wasm: pluginWasm(plugin), config });
  assert.deepEqual(host.logs(4), [], "no error logged");
}

test("a token_per_* past 2^53 - 1 (what the Lua scripts count exactly) is refused naming the field, not accepted to reject everyone (G7)", async () => {
  for (const huge of [9223372036854775807n, 1e19, 1e300, 9007199254740992]) {
    const text = JSON.stringify({ ...RATELIMIT, global_threshold: { token_per_minute: 0 } }).replace('"token_per_minute":0', `"token_per_minute":${huge}`);
    assert.deepEqual(await refusal("ai-token-ratelimit", text), [`ai-token-ratelimit: global_threshold.token_per_minute must be between 1 and 9007199254740991, got ${typeof huge === "bigint" ? huge : JSON.stringify(huge)}`]);
  }
  const item = { ...RATELIMIT, global_threshold: undefined, rule_items: [{ limit_by_per_header: "x-api-key", limit_keys: [{ key: "*", token_per_day: "9007199254740993" }] }] };
  assert.deepEqual(await refusal("ai-token-ratelimit", item), ['ai-token-ratelimit: rule_items[0].limit_keys[0].token_per_day must be between 1 and 9007199254740991, got "9007199254740993"']);
  await accepted("ai-token-ratelimit", { ...RATELIMIT, global_threshold: { token_per_minute: 9007199254740991, token_per_second: "9007199254740991" } });
});

test("a count that is not positive keeps Higress's words and names the field", async () => {
  assert.deepEqual(await refusal("ai-token-ratelimit", { ...RATELIMIT, global_threshold: { token_per_hour: -1e300 } }), [
    "ai-token-ratelimit: failed to parse global_threshold: 'token_per_hour' must be a positive integer, got -1e+300 at global_threshold.token_per_hour",
  ]);
});
