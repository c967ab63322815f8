/**
 * spec.yaml and config.ts agree (issue 16): configurations generated from each plugin's schema,
 * one field changed at a time from the schema's example, configure exactly when the schema calls
 * them valid; an invalid one is refused with one error line that names the field.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { loadSpec, PLUGINS } from "../../scripts/plugin-spec.ts";
import { schemaCases, validate, namesField, formatPath, type Schema, type Path } from "../support/schema-cases.ts";
import { configure, LOG_ERROR } from "../support/configure.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";

let redis: RedisServer;
before(async () => void (redis = await startRedis()));
after(async () => await redis.stop());

/** What went wrong with one case, or null when the plugin did what the schema says. */
async function disagreement(plugin: string, schema: Schema, config: unknown, wrap: (c: unknown) => unknown, prefix: Path): Promise<string | null> {
  const problems = validate(schema, config);
  const result = await configure(plugin, wrap(config), redis);
  const lines = result.lines.map((l) => l.message);
  if (problems.length === 0) {
    if (!result.accepted) return `valid per the schema, refused: ${lines.join(" | ")}`;
    return lines.length > 0 ? `valid per the schema, accepted with: ${lines.join(" | ")}` : null;
  }
  const where = problems.map((p) => p.fields.map((f) => formatPath([...prefix, ...f])).join(p.anyOne ? " or " : ", ")).join("; ");
  if (result.accepted) return `invalid at ${where} per the schema, accepted${lines.length ? ` with: ${lines.join(" | ")}` : ""}`;
  const errors = result.lines.filter((l) => l.level >= LOG_ERROR).map((l) => l.message);
  if (errors.length !== 1) return `refused with ${errors.length} error lines: ${errors.join(" | ")}`;
  // One rejection per config (the plugins stop at the first): it names the fields of one problem.
  const named = problems.some((p) => (p.anyOne ? p.fields.some : p.fields.every).call(p.fields, (f) => namesField(errors[0], [...prefix, ...f])));
  return named ? null : `refused without naming ${where}: ${errors[0]}`;
}

async function agree(plugin: string, schema: Schema, wrap: (c: unknown) => unknown = (c) => c, prefix: Path = []): Promise<number> {
  assert.deepEqual(validate(schema, schema.example), [], "the example is valid");
  const failures: string[] = [];
  let valid = 0;
  let invalid = 0;
  for (const c of [{ name: "the example", config: schema.example }, ...schemaCases(schema, schema.example)]) {
    if (validate(schema, c.config).length === 0) valid++;
    else invalid++;
    const wrong = await disagreement(plugin, schema, c.config, wrap, prefix);
    if (wrong !== null) failures.push(`${c.name}: ${wrong}`);
  }
  assert.deepEqual(failures, []);
  // Both kinds were generated: the test could fail either way.
  assert.ok(valid > 0 && invalid > 0, `${valid} valid and ${invalid} invalid cases`);
  return valid + invalid;
}

for (const plugin of PLUGINS) {
  test(`${plugin}: every configuration generated from spec.yaml's configSchema configures exactly when the schema says it is valid, and a refusal names the field`, async () => {
    await agree(plugin, loadSpec(plugin).spec.configSchema.openAPIV3Schema);
  });
}

test("key-auth: a _rules_ entry generated from routeConfigSchema configures exactly when the schema says it is valid", async () => {
  const spec = loadSpec("key-auth").spec;
  const global = spec.configSchema.openAPIV3Schema.example as Record<string, unknown>;
  const wrap = (rule: unknown) => ({ ...global, _rules_: [{ _match_route_: ["r"], ...(rule as object) }] });
  await agree("key-auth", spec.routeConfigSchema!.openAPIV3Schema, wrap, ["_rules_", 0]);
});
