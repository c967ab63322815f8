/**
 * Each plugin's spec.yaml (issue 16): Higress's console format, every field labelled in English and
 * zh-CN, the README's configuration tables generated from it, and the facts it shares with the
 * README, the WasmPlugin resource, package.json and the code defined once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { loadSpec, specFile, PLUGINS, type FieldSchema } from "../../scripts/plugin-spec.ts";
import { renderConfigTables, readmeFile, BEGIN, END } from "../../scripts/gen-config-docs.ts";
import { repoRoot } from "../support/paths.ts";
import { sourceConstant } from "../support/source-constants.ts";

const read = (file: string) => readFileSync(`${repoRoot}${file}`, "utf8");

/** Every field schema below `schema`, with its path. */
function fields(schema: FieldSchema, path = ""): Array<[string, FieldSchema]> {
  const out: Array<[string, FieldSchema]> = [];
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    const name = path ? `${path}.${key}` : key;
    out.push([name, field]);
    out.push(...fields(field, name));
    if (field.items) out.push(...fields(field.items, `${name}[]`));
  }
  return out;
}

/** The example text as the console takes it: the lines under `example:`, a direct child of configSchema's openAPIV3Schema (WasmPluginServiceImpl reads it line by line). */
function consoleExample(text: string): string {
  const lines = text.split("\n");
  const schemaLine = lines.findIndex((l, i) => l.trim() === "openAPIV3Schema:" && lines.slice(0, i).some((p) => p.trim() === "configSchema:"));
  const indent = (l: string) => l.length - l.trimStart().length;
  const childIndent = indent(lines[schemaLine + 1]);
  const start = lines.findIndex((l, i) => i > schemaLine && indent(l) === childIndent && l.trim() === "example:");
  assert.ok(start > schemaLine, "configSchema.openAPIV3Schema has a block-style example");
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") continue;
    if (indent(line) <= childIndent) break;
    body.push(line);
  }
  const inner = indent(body[0]);
  return body.map((l) => l.slice(inner)).join("\n");
}

const packageVersion = JSON.parse(read("package.json")).version;

for (const plugin of PLUGINS) {
  const spec = loadSpec(plugin);
  const schema = spec.spec.configSchema.openAPIV3Schema;

  test(`${plugin}: ${readmeFile(plugin)} holds the configuration tables generated from ${specFile(plugin)}`, () => {
    const readme = read(readmeFile(plugin));
    const block = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
    assert.ok(readme.includes(BEGIN) && readme.includes(END), "the README has the generated block");
    assert.equal(block, renderConfigTables(spec), "stale: run node --import tsx scripts/gen-config-docs.ts");
  });

  test(`${plugin}: spec.yaml has the Higress console's fields, and every field a type, titles and descriptions in English and zh-CN, and an example`, () => {
    assert.equal(spec.apiVersion, "1.0.0");
    const info = spec.info;
    assert.equal(info.name, plugin);
    assert.equal(info.version, packageVersion, "the version of package.json");
    for (const key of ["category", "title", "description"] as const) assert.ok(info[key].length > 0, `info.${key}`);
    assert.ok(info["x-title-i18n"]["zh-CN"] && info["x-description-i18n"]["zh-CN"], "info has zh-CN title and description");
    assert.ok(info.contact.name.length > 0);
    assert.match(spec.spec.phase, /^(AUTHN|AUTHZ|STATS|default)$/);
    assert.ok(Number.isInteger(spec.spec.priority));
    const all = [...fields(schema), ...(spec.spec.routeConfigSchema ? fields(spec.spec.routeConfigSchema.openAPIV3Schema, "_rules_[]") : [])];
    assert.ok(all.length > 5);
    for (const [name, field] of all) {
      assert.ok(field.type, `${name} has a type`);
      assert.ok(field.title && field["x-title-i18n"]?.["zh-CN"], `${name} has a title in English and zh-CN`);
      assert.ok(field.description && field["x-description-i18n"]?.["zh-CN"], `${name} has a description in English and zh-CN`);
      assert.ok(field.example !== undefined, `${name} has an example`);
    }
    assert.deepEqual(YAML.parse(consoleExample(read(specFile(plugin)))), schema.example, "the console reads the example whole");
  });

  test(`${plugin}: the README and the WasmPlugin resource give spec.yaml's phase and priority`, () => {
    assert.ok(read(readmeFile(plugin)).includes(`Plugin phase: \`${spec.spec.phase}\`. Plugin priority: \`${spec.spec.priority}\``));
    const resource = YAML.parse(read(`packaging/${plugin}/wasmplugin.yaml`));
    assert.equal(resource.spec.phase, spec.spec.phase === "default" ? "UNSPECIFIED_PHASE" : spec.spec.phase);
    assert.equal(resource.spec.priority, spec.spec.priority);
  });
}

test("the AI plugins describe the fields they parse with the same code (shared/usage, shared/redis) the same way", () => {
  const [quota, limit] = ["ai-quota", "ai-token-ratelimit"].map((p) => loadSpec(p).spec.configSchema.openAPIV3Schema.properties!);
  for (const name of ["inject_stream_usage", "estimate_missing_usage", "estimate_bytes_per_token", "reserve_output_tokens"]) assert.deepEqual(quota[name], limit[name], name);
  const { description: _e, "x-description-i18n": _f, ...quotaReserve } = quota.reserve_tokens;
  const { description: _g, "x-description-i18n": _h, ...limitReserve } = limit.reserve_tokens;
  assert.deepEqual(quotaReserve, limitReserve, "reserve_tokens, but for where it reserves");
  const { description: _a, "x-description-i18n": _b, ...quotaRedis } = quota.redis;
  const { description: _c, "x-description-i18n": _d, ...limitRedis } = limit.redis;
  assert.deepEqual(quotaRedis, limitRedis, "redis, but for what it holds");
});

test("defaults and bounds in spec.yaml are the code's constants", () => {
  const props = (p: string) => loadSpec(p).spec.configSchema.openAPIV3Schema.properties!;
  const quota = props("ai-quota");
  assert.equal(quota.admin_path.default, sourceConstant("plugins/ai-quota/config.ts", "DEFAULT_ADMIN_PATH"));
  assert.equal(quota.redis_key_prefix.default, sourceConstant("plugins/ai-quota/keys.ts", "DEFAULT_KEY_PREFIX"));
  assert.equal(quota.estimate_bytes_per_token.default, Number(sourceConstant("shared/usage/options.ts", "DEFAULT_BYTES_PER_TOKEN")));
  assert.equal(quota.estimate_bytes_per_token.maximum, Number(sourceConstant("shared/usage/options.ts", "MAX_BYTES_PER_TOKEN")));
  assert.equal(quota.reserve_output_tokens.default, Number(sourceConstant("shared/usage/options.ts", "DEFAULT_RESERVE_OUTPUT_TOKENS")));
  assert.equal(quota.reserve_output_tokens.maximum, Number(sourceConstant("shared/usage/options.ts", "MAX_RESERVE_OUTPUT_TOKENS").replaceAll("_", "")));
  const limit = props("ai-token-ratelimit");
  assert.equal(limit.rejected_code.minimum, Number(sourceConstant("plugins/ai-token-ratelimit/config.ts", "MIN_REJECTED_CODE")));
  assert.equal(limit.rejected_code.maximum, Number(sourceConstant("plugins/ai-token-ratelimit/config.ts", "MAX_REJECTED_CODE")));
  assert.equal(limit.rejected_msg.default, /RATE_LIMITED = new \w+\(\d+, "([^"]+)"/.exec(read("plugins/ai-token-ratelimit/errors.ts"))![1]);
  assert.equal(limit.rejected_code.default, Number(/RATE_LIMITED = new \w+\((\d+),/.exec(read("plugins/ai-token-ratelimit/errors.ts"))![1]));
  const window = limit.global_threshold.properties!.token_per_minute;
  assert.equal(window.maximum, Number(sourceConstant("shared/json/config.ts", "MAX_EXACT_INTEGER")));
  const statistics = props("ai-statistics");
  assert.equal(statistics.value_length_limit.default, Number(sourceConstant("plugins/ai-statistics/config.ts", "DEFAULT_VALUE_LENGTH_LIMIT")));
  assert.equal(statistics.value_length_limit.maximum, Number(sourceConstant("plugins/ai-statistics/config.ts", "MAX_VALUE_LENGTH_LIMIT")));
  const sources = statistics.attributes.items!.properties!.value_source.enum;
  assert.deepEqual(sources, ["FIXED_VALUE", "REQUEST_HEADER", "REQUEST_BODY", "RESPONSE_HEADER", "RESPONSE_BODY", "RESPONSE_STREAMING_BODY"].map((c) => sourceConstant("plugins/ai-statistics/config.ts", c)));
  assert.deepEqual(statistics.attributes.items!.properties!.rule.enum, ["RULE_FIRST", "RULE_REPLACE", "RULE_APPEND"].map((c) => sourceConstant("plugins/ai-statistics/config.ts", c)));
  const consumer = props("key-auth").consumers.items!.properties!;
  assert.deepEqual(consumer.keys.not!.enum, [[sourceConstant("plugins/key-auth/sources.ts", "PLACEHOLDER_KEY")]]);
});
