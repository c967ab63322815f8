import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { repoRoot } from "../support/paths.ts";

const plugins = readdirSync(`${repoRoot}plugins`).filter((p) => existsSync(`${repoRoot}plugins/${p}/errors.ts`));
/** Every plugin parses its configuration in config.ts; ai-statistics answers nothing, so it has no errors.ts. */
const configured = readdirSync(`${repoRoot}plugins`).filter((p) => existsSync(`${repoRoot}plugins/${p}/config.ts`));

/** `new X(status, "body", "details"[, type, code])` constants in a plugin's errors.ts, and in shared/usage/refusal.ts when the plugin answers with it. */
function errorConstants(plugin: string): string[] {
  let source = readFileSync(`${repoRoot}plugins/${plugin}/errors.ts`, "utf8");
  const code = readdirSync(`${repoRoot}plugins/${plugin}`).filter((f) => f.endsWith(".ts")).map((f) => readFileSync(`${repoRoot}plugins/${plugin}/${f}`, "utf8")).join("\n");
  if (code.includes("shared/usage/refusal")) source += readFileSync(`${repoRoot}shared/usage/refusal.ts`, "utf8");
  return [...source.matchAll(/new \w+\((\d{3}), "((?:[^"\\]|\\.)*)", "([^"]+)"[^;]*\)/g)].map((m) => `${m[1]} | ${m[2]} | ${m[3]}`);
}

function section(readme: string, title: string): string {
  const start = readme.indexOf(`## ${title}`);
  assert.ok(start >= 0, `README has a "## ${title}" section`);
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Rows `| 401 | `body` | `details` | …` of the README's Errors table. */
function documentedErrors(readme: string): string[] {
  return [...section(readme, "Errors").matchAll(/^\| (\d{3}) \| `([^`]*)` \| `([^`]+)` \|/gm)].map((m) => `${m[1]} | ${m[2]} | ${m[3]}`);
}

const usageOptions = readFileSync(`${repoRoot}shared/usage/options.ts`, "utf8");
const redisConfig = readFileSync(`${repoRoot}shared/redis/config.ts`, "utf8");
const localReply = readFileSync(`${repoRoot}shared/reply/local-reply.ts`, "utf8");
const identity = readFileSync(`${repoRoot}shared/identity/consumer.ts`, "utf8");

/** The shared constant whose value is `field` (`INJECT_STREAM_USAGE` for inject_stream_usage), in the shared files config.ts may read fields through. */
function sharedConstant(field: string): string | null {
  for (const source of [usageOptions, identity, localReply]) {
    const match = new RegExp(`^export const (\\w+) = "${field}";`, "m").exec(source);
    if (match) return match[1];
  }
  return null;
}

for (const plugin of plugins) {
  test(`${plugin}: every error constant is in the README's Errors table and every row is a constant`, () => {
    const readme = readFileSync(`${repoRoot}plugins/${plugin}/README.md`, "utf8");
    assert.deepEqual(documentedErrors(readme).sort(), errorConstants(plugin).sort());
  });
}

for (const plugin of configured) {
  test(`${plugin}: every field in the README's configuration tables is read by config.ts`, () => {
    const readme = readFileSync(`${repoRoot}plugins/${plugin}/README.md`, "utf8");
    const config = readFileSync(`${repoRoot}plugins/${plugin}/config.ts`, "utf8");
    // Names config.ts loops over from the plugin's keys.ts (ai-token-ratelimit's limit types and windows, parts of its Redis keys).
    const keys = config.includes('from "./keys"') ? readFileSync(`${repoRoot}plugins/${plugin}/keys.ts`, "utf8") : "";
    const fields: string[] = [];
    let inFieldTable = false;
    for (const line of section(readme, "Configuration Fields").split("\n")) {
      if (!line.startsWith("|")) inFieldTable = false;
      else if (line.startsWith("| Name | Data Type |")) inFieldTable = true;
      else if (inFieldTable) {
        const name = /^\| `([a-z_]+)` \|/.exec(line);
        if (name) fields.push(name[1]);
      }
    }
    assert.ok(fields.length > 0);
    for (const field of fields) {
      // The rule matcher reads _rules_ and the _match_*_ keys for every plugin.
      if (field.startsWith("_")) continue;
      // The shared Redis block parser reads `redis` and its fields for the AI plugins, the shared metering options their usage fields.
      const read =
        config.includes(`"${field}"`) ||
        keys.includes(`"${field}"`) ||
        (config.includes("parseRedisConfig(fields)") && (field === "redis" || redisConfig.includes(`"${field}"`))) ||
        (config.includes("parseUsageOptions(fields)") && usageOptions.includes(`"${field}"`)) ||
        (config.includes("lenientBool(OPENAI_ERRORS)") && localReply.includes(`"${field}"`)) ||
        (sharedConstant(field) !== null && new RegExp(`\\(${sharedConstant(field)}\\)`).test(config));
      assert.ok(read, `${field} is documented but config.ts never reads it`);
    }
  });
}

test("the README's test command is what CI runs", () => {
  const readme = readFileSync(`${repoRoot}README.md`, "utf8");
  const ci = readFileSync(`${repoRoot}.ci/run`, "utf8");
  assert.match(readme, /^npm test\b/m);
  assert.match(ci, /^npm test$/m);
});
