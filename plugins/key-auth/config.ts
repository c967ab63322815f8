/**
 * key-auth configuration: Higress's fields (higress-behavior.md §2.2), the per-consumer `keys`,
 * `in_header` and `in_query` the Higress console writes (each falling back to the global one),
 * plus `credentials` and `hide_credentials` (decisions K4, K6); a key source is read only when its
 * flag is `true` (K2). Pure: no host calls.
 */
import { ConfigObject, jsonString } from "../../shared/json/index";
import { ConfigParser, RuleOptions, ParsedConfig, parsePluginConfig } from "../../shared/rules/index";
import { KeySources, SourceGroups, PLACEHOLDER_KEY } from "./sources";

export const PLUGIN_NAME = "key-auth";
export const IN_HEADER = "in_header";
export const IN_QUERY = "in_query";
const KEYS = "keys";
const ALLOW = "allow";

export class KeyAuthConfig {
  /** 1 true, 0 false, -1 unset: unset and false differ (§2.3). */
  globalAuth: i32 = -1;
  hideCredentials: bool = false;
  /** Consumer names in config order; a consumer is its index here. */
  names: Array<string> = [];
  /** One per distinct source configuration, in the order of their first consumer. */
  groups: Array<KeySources> = [];
  /** Whether any group reads headers / the query: each is fetched once per request, and only then. */
  readsHeaders: bool = false;
  readsQuery: bool = false;
  /** Consumers allowed on a matched rule; null for the global config. */
  allow: Array<string> | null = null;

  /** A rule's config: the global one's consumers with the rule's allow list. */
  withAllow(allow: Array<string>): KeyAuthConfig {
    const rule = new KeyAuthConfig();
    rule.globalAuth = this.globalAuth;
    rule.hideCredentials = this.hideCredentials;
    rule.names = this.names;
    rule.groups = this.groups;
    rule.readsHeaders = this.readsHeaders;
    rule.readsQuery = this.readsQuery;
    rule.allow = allow;
    return rule;
  }
}

/** A `keys` list where one is given: non-empty, every name non-empty; null when absent or wrong. */
function keyList(fields: ConfigObject): Array<string> | null {
  const keys = fields.stringList(KEYS, true);
  if (keys === null) return null;
  if (keys.length == 0) fields.reader.fail(fields.path.length == 0 ? "keys cannot be empty" : fields.pathOf(KEYS) + " cannot be empty");
  for (let i = 0; i < keys.length; i++) {
    if (keys[i].length == 0) fields.reader.fail(fields.pathOf(KEYS) + "[" + i.toString() + "] must be a non-empty string");
  }
  return fields.reader.failed ? null : keys;
}

function isPlaceholder(keys: Array<string>): bool {
  for (let i = 0; i < keys.length; i++) if (unchecked(keys[i]) != PLACEHOLDER_KEY) return false;
  return true;
}

/** How a key-source flag was written, for the refusal: `in_header false`, `consumers[1].in_query absent`. */
function flagOf(fields: ConfigObject, key: string): string {
  const value = fields.value.get(key);
  return fields.pathOf(key) + " " + (value === null ? "absent" : value.describe());
}

/** The global fields every consumer falls back to. */
class Defaults {
  constructor(public fields: ConfigObject, public keys: Array<string> | null, public inHeader: i32, public inQuery: i32) {}
}

/** The sources a consumer reads: its own `keys`, `in_header`, `in_query`, each falling back to the global one. */
function sourcesOf(consumer: ConfigObject, defaults: Defaults): KeySources | null {
  const reader = consumer.reader;
  const own = consumer.has(KEYS) ? keyList(consumer) : null;
  const ownHeader = consumer.lenientBool(IN_HEADER);
  const ownQuery = consumer.lenientBool(IN_QUERY);
  if (reader.failed) return null;
  let keys = own;
  if (keys === null) {
    keys = defaults.keys;
    if (keys === null) {
      reader.fail("keys is required (" + consumer.path + " has no keys of its own)");
      return null;
    }
    // The console's placeholder names no header a client sends: falling back to it is a mistake.
    if (isPlaceholder(keys)) {
      reader.fail(consumer.pathOf(KEYS) + " is required: the global keys are only the console's placeholder " + PLACEHOLDER_KEY);
      return null;
    }
  }
  const inHeader = ownHeader >= 0 ? ownHeader == 1 : defaults.inHeader == 1;
  const inQuery = ownQuery >= 0 ? ownQuery == 1 : defaults.inQuery == 1;
  if (!inHeader && !inQuery) {
    // Higress refuses only when both are absent; with both false every request would be 401.
    const prefix = ownHeader >= 0 || ownQuery >= 0 ? consumer.path + "." : "";
    const header = ownHeader >= 0 ? flagOf(consumer, IN_HEADER) : flagOf(defaults.fields, IN_HEADER);
    const query = ownQuery >= 0 ? flagOf(consumer, IN_QUERY) : flagOf(defaults.fields, IN_QUERY);
    reader.fail(prefix + IN_HEADER + " or " + prefix + IN_QUERY + " must be true, got " + header + " and " + query);
    return null;
  }
  return new KeySources(keys, inHeader, inQuery);
}

function readConsumer(consumer: ConfigObject, defaults: Defaults, config: KeyAuthConfig, groups: SourceGroups): void {
  const reader = consumer.reader;
  const name = consumer.string("name");
  if (name === null || name.length == 0) {
    reader.fail("consumer name is required at " + consumer.pathOf("name"));
    return;
  }
  // The name is sent upstream as X-Mse-Consumer: a CR, LF or NUL in it is no header value.
  if (!isHeaderValue(name)) {
    reader.fail(consumer.pathOf("name") + " must be a valid header value (no control characters such as CR, LF or NUL), got " + jsonString(name));
    return;
  }
  const list = new Array<string>();
  const single = consumer.string("credential");
  if (single !== null) list.push(single);
  const many = consumer.stringList("credentials");
  if (many !== null) for (let i = 0; i < many.length; i++) list.push(many[i]);
  if (reader.failed) return;
  if (list.length == 0) {
    reader.fail("consumer credential is required at " + consumer.pathOf("credential"));
    return;
  }
  const sources = sourcesOf(consumer, defaults);
  if (sources === null) return;
  const group = groups.groupOf(sources);
  const index = config.names.length;
  config.names.push(name);
  for (let i = 0; i < list.length; i++) {
    const credential = unchecked(list[i]);
    const where = single !== null && i == 0 ? consumer.pathOf("credential") : consumer.pathOf("credentials") + "[" + (single !== null ? i - 1 : i).toString() + "]";
    if (credential.length == 0) {
      reader.fail("consumer credential is required at " + where);
      return;
    }
    // The credential itself is a secret (G8): say where the duplicate is, not what it is.
    const clash = groups.add(group, credential, index, where);
    if (clash !== null) {
      reader.fail("duplicate consumer credential at " + where + " (also at " + clash + ")");
      return;
    }
  }
}

/** A `_rules_` entry: only `allow`; everything else comes from the global config. */
function parseRule(fields: ConfigObject, global: KeyAuthConfig | null): KeyAuthConfig | null {
  const reader = fields.reader;
  if (global === null) {
    reader.fail("consumers is required (a rule needs the global consumers)");
    return null;
  }
  const allow = fields.stringList(ALLOW, true);
  if (reader.failed) return null;
  // An empty list is what the console writes for a route with auth on and nobody chosen yet:
  // every consumer is refused there, as in Higress's key-auth.
  if (allow === null) reader.fail("allow is required at " + fields.pathOf(ALLOW));
  return reader.failed ? null : global.withAllow(allow!);
}

class KeyAuthParser extends ConfigParser<KeyAuthConfig> {
  parse(fields: ConfigObject, global: KeyAuthConfig | null): KeyAuthConfig | null {
    const reader = fields.reader;
    if (fields.path.startsWith("_rules_")) return parseRule(fields, global);
    const config = new KeyAuthConfig();
    config.globalAuth = fields.lenientBool("global_auth");
    const keys = fields.has(KEYS) ? keyList(fields) : null;
    if (reader.failed) return null;
    if (fields.has(KEYS) && keys === null) reader.fail("keys cannot be empty");
    const defaults = new Defaults(fields, keys, fields.lenientBool(IN_HEADER), fields.lenientBool(IN_QUERY));
    config.hideCredentials = fields.lenientBool("hide_credentials") == 1;
    // The console writes `allow: []` into the global config; an allow list there restricts
    // nothing in Higress, so a non-empty one would promise what it does not do.
    const allow = fields.stringList(ALLOW, true);
    if (allow !== null && allow.length > 0) reader.refuse(ALLOW + " must be empty in the global config (it applies in _rules_ only), got " + allow.length.toString() + " names");
    const consumers = fields.objectList("consumers");
    if (reader.failed) return null;
    if (consumers === null) {
      reader.fail("consumers is required");
      return null;
    }
    // `consumers: []` with global_auth false is the console's state before its first consumer.
    if (consumers.length == 0 && config.globalAuth != 0) {
      reader.fail("consumers cannot be empty");
      return null;
    }
    const groups = new SourceGroups();
    for (let i = 0; i < consumers.length && !reader.failed; i++) {
      readConsumer(consumers[i], defaults, config, groups);
      if (!reader.failed) consumers[i].done();
    }
    if (reader.failed) return null;
    config.groups = groups.list;
    for (let g = 0; g < config.groups.length; g++) {
      if (unchecked(config.groups[g]).inHeader) config.readsHeaders = true;
      if (unchecked(config.groups[g]).inQuery) config.readsQuery = true;
    }
    return config;
  }
}

/** Parses the plugin configuration text; a global part that fails fails everything (K8). */
export function parseKeyAuthConfig(text: string): ParsedConfig<KeyAuthConfig> {
  const options = new RuleOptions();
  options.overrideStyle = true;
  options.strictGlobal = true;
  return parsePluginConfig<KeyAuthConfig>(PLUGIN_NAME, text, new KeyAuthParser(), options);
}

/** A field value as RFC 9110 has it: visible characters, spaces, tabs, bytes past ASCII; no other control character. */
function isHeaderValue(text: string): bool {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c != 0x09) || c == 0x7f) return false;
  }
  return true;
}
