/**
 * packaging/README.md (the images and the three Higress console paths): every YAML block is a
 * WasmPlugin Higress can apply, the console's Helm setting, or a configuration the plugin it names
 * accepts; the push commands copy layouts `npm run package` writes, to the names the doc's console
 * settings resolve to.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { createHost } from "../../host/direct.ts";
import { pluginWasm, repoRoot } from "../support/paths.ts";
import { wasmPluginConfig } from "../support/wasmplugin.ts";
import { OCI_DIR, VERSION, pluginNames } from "../../scripts/package.ts";

const DOC = "packaging/README.md";
const doc = readFileSync(`${repoRoot}${DOC}`, "utf8");
const blocks = (lang: string) => [...doc.matchAll(new RegExp("^```" + lang + "\\n([\\s\\S]*?)^```$", "gm"))].map((m) => m[1]);
const yamlBlocks = blocks("yaml");
const commands = blocks("bash").join("\n");
const PLUGINS = pluginNames();
/** higress-console's WasmPluginServiceConfig: the pattern's variable and placeholders. */
const URL_PATTERN_ENV = "HIGRESS_ADMIN_WASM_PLUGIN_CUSTOM_IMAGE_URL_PATTERN";

/** The doc's table of built-ins: plugin → default image, plugin version, the console's resource name. */
const builtIns = new Map(
  [...doc.matchAll(/^\| ([a-z-]+) \| `(oci:\/\/[^`]+)` \| ([\d.]+) \| `([^`]+)` \|$/gm)].map((m) => [m[1], { image: m[2], version: m[3], resource: m[4] }]),
);

/** The first comment line names the plugin and where the YAML goes: `# <plugin>, global configuration` or `# <plugin>, route <name>`. */
function placement(block: string): { plugin: string; route: string | null } | null {
  const m = /^# ([a-z-]+), (?:global configuration|route ([\w.-]+))\n/.exec(block);
  return m && { plugin: m[1], route: m[2] ?? null };
}

async function assertAccepted(plugin: string, config: Record<string, unknown>, what: string): Promise<void> {
  assert.ok(PLUGINS.includes(plugin), `${what}: ${plugin} is one of our plugins`);
  const host = await createHost({ name: plugin, wasm: pluginWasm(plugin), config }).catch((e) => {
    assert.fail(`${what}: ${plugin} refused it: ${((e as { logs?: Array<{ message: string }> }).logs ?? []).map((l) => l.message).join("; ")}`);
  });
  assert.equal(host.chain.failed(), false, what);
  assert.deepEqual(host.logs(4), [], `${what}: no error logged`);
}

test(`${DOC}: every YAML block is one the test below recognises`, () => {
  assert.ok(yamlBlocks.length >= 7);
  for (const block of yamlBlocks) {
    const parsed = YAML.parse(block);
    assert.ok(parsed?.kind === "WasmPlugin" || parsed?.["higress-console"] || placement(block), `unrecognised YAML block:\n${block}`);
  }
});

test(`${DOC}: each plugin configuration, in a global editor or on a route, is accepted by its plugin`, async () => {
  const placed = yamlBlocks.filter((b) => placement(b));
  assert.deepEqual([...new Set(placed.map((b) => placement(b)!.plugin))].sort(), PLUGINS, "a configuration for every plugin");
  for (const block of placed) {
    const { plugin, route } = placement(block)!;
    const config = YAML.parse(block);
    if (route === null) {
      await assertAccepted(plugin, config, `${plugin} global configuration`);
      continue;
    }
    // A route's configuration is a rule over the plugin's global one, as the console writes matchRules.
    const global = placed.find((b) => placement(b)!.plugin === plugin && placement(b)!.route === null);
    await assertAccepted(plugin, { ...(global && YAML.parse(global)), _rules_: [{ ...config, _match_route_: [route] }] }, `${plugin} on route ${route}`);
  }
});

test(`${DOC}: each WasmPlugin has what Higress needs, the console's labels and names, and a config its plugin accepts`, async () => {
  const resources = yamlBlocks.map((b) => YAML.parse(b)).filter((r) => r?.kind === "WasmPlugin");
  assert.ok(resources.length >= 2);
  for (const r of resources) {
    const what = `WasmPlugin ${r.metadata?.name}`;
    assert.equal(r.apiVersion, "extensions.higress.io/v1alpha1", what);
    assert.equal(r.metadata.namespace, "higress-system", what);
    const url = /^oci:\/\/[\w.-]+(?::\d+)?\/(?:[\w.-]+\/)*([a-z-]+?)(-as)?:([\w.-]+)$/.exec(r.spec.url);
    assert.ok(url, `${what}: spec.url ${r.spec.url} is oci://<registry>/<repository>:<tag>`);
    assert.ok(["UNSPECIFIED_PHASE", "AUTHN", "AUTHZ", "STATS"].includes(r.spec.phase), `${what}: phase ${r.spec.phase}`);
    assert.ok(Number.isInteger(r.spec.priority) && r.spec.priority >= 1 && r.spec.priority <= 1000, `${what}: priority 1-1000`);
    const labels = r.metadata.labels;
    assert.equal(labels["higress.io/resource-definer"], "higress", `${what}: the console lists only its own resources`);
    assert.equal(r.metadata.name, `${labels["higress.io/wasm-plugin-name"]}-${labels["higress.io/wasm-plugin-version"]}`, `${what}: the console names it <plugin>-<version>`);
    const plugin = url[1];
    if (labels["higress.io/wasm-plugin-built-in"] === "true") {
      assert.equal(labels["higress.io/wasm-plugin-name"], plugin, `${what}: a built-in keeps the built-in's name`);
      assert.equal(r.metadata.name, builtIns.get(plugin)?.resource, `${what}: the resource named in the table of built-ins`);
    } else {
      assert.equal(labels["higress.io/wasm-plugin-built-in"], "false", what);
      assert.equal(labels["higress.io/wasm-plugin-category"], "custom", `${what}: the console files added plugins as custom`);
      assert.ok(!builtIns.has(labels["higress.io/wasm-plugin-name"]), `${what}: a custom plugin cannot take a built-in's name`);
    }
    await assertAccepted(plugin, wasmPluginConfig(r.spec), what);
  }
});

test(`${DOC}: the table of built-ins names each resource <plugin>-<plugin version>, for each of our plugins`, () => {
  assert.deepEqual([...builtIns.keys()].sort(), PLUGINS);
  for (const [plugin, b] of builtIns) {
    assert.equal(b.resource, `${plugin}-${b.version}`);
    assert.match(b.image, new RegExp(`^oci://higress-registry\\.cn-hangzhou\\.cr\\.aliyuncs\\.com/plugins/${plugin}:[\\d.]+$`));
  }
});

test(`${DOC}: the console's URL pattern resolves, for each plugin, to a name the doc pushes our image to`, () => {
  const values = yamlBlocks.map((b) => YAML.parse(b)).find((v) => v?.["higress-console"]);
  const pattern: string = values["higress-console"].podEnvs[URL_PATTERN_ENV];
  assert.match(pattern, /^oci:\/\/.*\$\{name\}.*:\$\{version\}$/);
  for (const [plugin, b] of builtIns) {
    const image = pattern.replace("${name}", plugin).replace("${version}", b.version).slice("oci://".length);
    assert.ok(commands.includes(`oras cp --from-oci-layout ${OCI_DIR}/${plugin}:${VERSION} ${image}\n`), `the doc pushes ${plugin} to ${image}`);
  }
});

test(`${DOC}: every push copies a layout npm run package writes, by the tag it writes`, () => {
  const sources = [...commands.matchAll(/(?:--from-oci-layout |oci:)(\S+)/g)].map((m) => m[1]);
  assert.ok(sources.length >= 2);
  for (const source of sources) {
    const m = new RegExp(`^${OCI_DIR}/([a-z-]+):(\\S+)$`).exec(source);
    assert.ok(m && PLUGINS.includes(m[1]) && m[2] === VERSION, `${source} is ${OCI_DIR}/<plugin>:${VERSION}`);
  }
});
