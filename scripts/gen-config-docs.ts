/**
 * Writes each plugin README's configuration tables from its spec.yaml, so the console's schema and
 * the README cannot drift: edit spec.yaml, then run `node --import tsx scripts/gen-config-docs.ts`.
 * tests/static/plugin-spec.test.ts fails when a README holds other text between the markers.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { repoRoot } from "../tests/support/paths.ts";
import { loadSpec, specFile, PLUGINS, type PluginSpec, type FieldSchema } from "./plugin-spec.ts";

export const BEGIN = "<!-- Configuration tables: generated from spec.yaml by scripts/gen-config-docs.ts; edit spec.yaml, not these lines. -->";
export const END = "<!-- End of the generated configuration tables. -->";

export const readmeFile = (plugin: string) => `plugins/${plugin}/README.md`;

/** The `_rules_` match keys, read by shared/rules/ for every plugin. */
const MATCH_ROWS = [
  ["_match_route_", "One `_match_*` is required", "Route names."],
  ["_match_domain_", "", "Domains: exact, `*.suffix`, `prefix*`, `*`, compared with `Host` as Envoy does: case-insensitive, the port (and a trailing dot in `Host`, `example.com.`) ignored."],
  ["_match_service_", "", "Services: `name` or `name:port` of the upstream cluster."],
  ["_match_route_prefix_", "", "Route-name prefixes."],
];

const HEADER = "| Name | Data Type | Requirement | Default | Description |\n|---|---|---|---|---|";
const TYPES: Record<string, string> = { boolean: "bool", integer: "int", string: "string", object: "object", array: "array" };

function typeOf(schema: FieldSchema): string {
  const type = TYPES[schema.type ?? "object"];
  return schema.type === "array" ? `array of ${TYPES[schema.items?.type ?? "string"]}` : type;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** "One of `a`, `b` must be `true`" for a field in an anyOf/oneOf whose branches each require one field. */
function groupRequirement(object: FieldSchema, key: string): string | null {
  const groups = [object.anyOf, object.oneOf, ...(object.allOf ?? []).map((s) => s.anyOf)];
  for (const branches of groups) {
    if (!branches || !branches.every((b) => b.required?.length === 1)) continue;
    const names = branches.map((b) => b.required![0]);
    if (!names.includes(key)) continue;
    const mustBeTrue = branches.every((b) => Object.values(b.properties ?? {}).some((p) => p.enum?.length === 1 && p.enum[0] === true));
    const list = names.map((n) => `\`${n}\``).join(", ");
    return `${branches === object.oneOf ? "Exactly one" : "One"} of ${list}${mustBeTrue ? " must be `true`" : ""}`;
  }
  return null;
}

function requirement(object: FieldSchema, key: string, field: FieldSchema): string {
  const fallback = field["x-fallback"];
  if (object.required?.includes(key)) return fallback ? `Required, here or as the global \`${fallback}\`` : "Required";
  return groupRequirement(object, key) ?? "Optional";
}

function defaultOf(field: FieldSchema): string {
  if (field.default !== undefined) return `\`${typeof field.default === "string" ? field.default : JSON.stringify(field.default)}\``;
  return field["x-fallback"] ? `the global \`${field["x-fallback"]}\`` : "-";
}

function rows(object: FieldSchema): string[] {
  return Object.entries(object.properties ?? {}).map(([key, field]) =>
    `| \`${key}\` | ${typeOf(field)} | ${requirement(object, key, field)} | ${defaultOf(field)} | ${cell(field.description ?? "")} |`);
}

/** The tables of every object nested in `object`, depth first: "Fields of `redis`:", "Each item of `consumers`:". */
function nestedTables(object: FieldSchema, path: string): string[] {
  const out: string[] = [];
  for (const [key, field] of Object.entries(object.properties ?? {})) {
    const name = path ? `${path}.${key}` : key;
    const inner = field.type === "array" && field.items?.type === "object" ? field.items : field.type === "object" ? field : null;
    if (!inner?.properties) continue;
    const title = inner === field ? `Fields of \`${name}\`:` : `Each item of \`${name}\`:`;
    out.push(`${title}\n\n${HEADER}\n${rows(inner).join("\n")}`);
    out.push(...nestedTables(inner, inner === field ? name : `${name}[]`));
  }
  return out;
}

/** The README text between the markers for one plugin's spec. */
export function renderConfigTables(spec: PluginSpec): string {
  const schema = spec.spec.configSchema.openAPIV3Schema;
  const route = spec.spec.routeConfigSchema?.openAPIV3Schema;
  const rulesRow = route
    ? "| `_rules_` | array of object | Optional | - | Per route, domain, service or route prefix: who may call; the rule inherits every other field from the global configuration. |"
    : "| `_rules_` | array of object | Optional | - | Per route, domain, service or route prefix: a whole configuration (the fields above) for the requests it matches. |";
  const matchRows = MATCH_ROWS.map(([name, need, text]) => `| \`${name}\` | array of string | ${need} | - | ${text} |`);
  const ruleTable = `Each item of \`_rules_\`:\n\n${HEADER}\n${[...matchRows, ...(route ? rows(route) : [])].join("\n")}`;
  const tables = [`${HEADER}\n${[...rows(schema), rulesRow].join("\n")}`, ...nestedTables(schema, ""), ruleTable];
  return `${BEGIN}\n\n${tables.join("\n\n")}\n\n${END}`;
}

/** `readme` with its generated block replaced by `block`; throws when the markers are missing. */
export function withTables(readme: string, block: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`no ${BEGIN} … ${END} block`);
  return readme.slice(0, start) + block + readme.slice(end + END.length);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const plugin of PLUGINS) {
    const file = `${repoRoot}${readmeFile(plugin)}`;
    writeFileSync(file, withTables(readFileSync(file, "utf8"), renderConfigTables(loadSpec(plugin))));
    console.log(`${readmeFile(plugin)}: tables from ${specFile(plugin)}`);
  }
}
