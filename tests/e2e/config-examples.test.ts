/**
 * Every configuration a user is shown configures its plugin without an error or a warning (issue
 * 16): the example of each spec.yaml (what the Higress console pre-fills) and every YAML or JSON
 * block in the plugin READMEs and the top README.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { loadSpec, PLUGINS } from "../../scripts/plugin-spec.ts";
import { readmeFile } from "../../scripts/gen-config-docs.ts";
import { accepted } from "../support/configure.ts";
import { repoRoot } from "../support/paths.ts";
import { startRedis, type RedisServer } from "../support/redis.ts";

let redis: RedisServer;
before(async () => void (redis = await startRedis()));
after(async () => await redis.stop());

/** The ```yaml and ```json blocks of a markdown file, parsed. */
function configBlocks(file: string): unknown[] {
  const text = readFileSync(`${repoRoot}${file}`, "utf8");
  return [...text.matchAll(/^```(yaml|json)\n([\s\S]*?)^```$/gm)].map((m) => YAML.parse(m[2]));
}

/**
 * The plugin a config is for (top-level README blocks name no plugin): of those whose schema's
 * required fields it has, the one that requires the most (ai-statistics requires none).
 */
function pluginOf(config: unknown): string {
  const required = (p: string) => loadSpec(p).spec.configSchema.openAPIV3Schema.required ?? [];
  const matching = PLUGINS.filter((p) => required(p).every((k) => k in (config as object)));
  const most = Math.max(...matching.map((p) => required(p).length));
  const specific = matching.filter((p) => required(p).length === most);
  assert.equal(specific.length, 1, `one plugin takes ${JSON.stringify(config)}`);
  return specific[0];
}

for (const plugin of PLUGINS) {
  test(`${plugin}: the spec.yaml example and every config block in its README configure, with nothing logged at warn or above`, async () => {
    await accepted(plugin, loadSpec(plugin).spec.configSchema.openAPIV3Schema.example, { quiet: true, redis });
    const blocks = configBlocks(readmeFile(plugin));
    assert.ok(blocks.length > 0, "the README shows a configuration");
    for (const config of blocks) await accepted(plugin, config, { quiet: true, redis });
  });
}

test("every config block in the top README configures the plugin it is for", async () => {
  for (const config of configBlocks("README.md")) await accepted(pluginOf(config), config, { quiet: true, redis });
});
