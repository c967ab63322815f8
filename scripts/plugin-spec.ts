/** Each plugin's `spec.yaml` (Higress console plugin metadata): the one place its configuration fields are described. */
import { readFileSync } from "node:fs";
import YAML from "yaml";
import { repoRoot } from "../tests/support/paths.ts";
import type { Schema } from "../tests/support/schema-cases.ts";

export const PLUGINS = ["key-auth", "ai-token-ratelimit", "ai-quota", "ai-statistics"] as const;

/** A schema node as spec.yaml writes it: the validated subset plus the console's labels. */
export interface FieldSchema extends Schema {
  title?: string;
  description?: string;
  "x-title-i18n"?: Record<string, string>;
  "x-description-i18n"?: Record<string, string>;
  properties?: Record<string, FieldSchema>;
  items?: FieldSchema;
}

export interface PluginSpec {
  apiVersion: string;
  info: {
    category: string;
    name: string;
    title: string;
    "x-title-i18n": Record<string, string>;
    description: string;
    "x-description-i18n": Record<string, string>;
    iconUrl?: string;
    version: string;
    contact: { name: string; url?: string; email?: string };
  };
  spec: {
    phase: string;
    priority: number;
    configSchema: { openAPIV3Schema: FieldSchema };
    /** The config of a `_rules_` entry where it is not a whole configuration (key-auth's `allow`). */
    routeConfigSchema?: { openAPIV3Schema: FieldSchema };
  };
}

export const specFile = (plugin: string) => `plugins/${plugin}/spec.yaml`;

export function loadSpec(plugin: string): PluginSpec {
  return YAML.parse(readFileSync(`${repoRoot}${specFile(plugin)}`, "utf8")) as PluginSpec;
}
