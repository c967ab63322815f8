/**
 * key-auth configuration: Higress's fields (higress-behavior.md §2.2) plus `credentials` and
 * `hide_credentials` (decisions K4, K6); a key source is read only when its flag is `true` (K2).
 * Pure: no host calls.
 */
import { ConfigObject, jsonString } from "../../shared/json/index";
import { lowerAscii } from "../../shared/text/index";
import { ConfigParser, RuleOptions, ParsedConfig, parsePluginConfig } from "../../shared/rules/index";

export const PLUGIN_NAME = "key-auth";
export const IN_HEADER = "in_header";
export const IN_QUERY = "in_query";

export class KeyAuthConfig {
  /** 1 true, 0 false, -1 unset: unset and false differ (§2.3). */
  globalAuth: i32 = -1;
  keys: Array<string> = [];
  /** `keys` lower-cased: header names match case-insensitively, query names exactly. */
  headerKeys: Array<string> = [];
  /** K2: a source is read only when its flag is `true`; an absent flag is `false`, as Higress's code. */
  inHeader: bool = false;
  inQuery: bool = false;
  hideCredentials: bool = false;
  /** credential → consumer name. */
  credentials: Map<string, string> = new Map();
  /** Consumers allowed on a matched rule; null for the global config. */
  allow: Array<string> | null = null;

  /** A rule's config: the global one's keys and consumers with the rule's allow list. */
  withAllow(allow: Array<string>): KeyAuthConfig {
    const rule = new KeyAuthConfig();
    rule.globalAuth = this.globalAuth;
    rule.keys = this.keys;
    rule.headerKeys = this.headerKeys;
    rule.inHeader = this.inHeader;
    rule.inQuery = this.inQuery;
    rule.hideCredentials = this.hideCredentials;
    rule.credentials = this.credentials;
    rule.allow = allow;
    return rule;
  }
}

function readConsumer(consumer: ConfigObject, config: KeyAuthConfig, owners: Map<string, string>): void {
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
  for (let i = 0; i < list.length; i++) {
    const credential = unchecked(list[i]);
    const where = single !== null && i == 0 ? consumer.pathOf("credential") : consumer.pathOf("credentials") + "[" + (single !== null ? i - 1 : i).toString() + "]";
    if (credential.length == 0) {
      reader.fail("consumer credential is required at " + where);
      return;
    }
    // The credential itself is a secret (G8): say where the duplicate is, not what it is.
    if (owners.has(credential)) {
      reader.fail("duplicate consumer credential at " + where + " (also at " + owners.get(credential) + ")");
      return;
    }
    owners.set(credential, where);
    config.credentials.set(credential, name);
  }
}

/** How a key-source flag was written, for the refusal: `in_header false`, `in_query absent`. */
function flagOf(fields: ConfigObject, key: string): string {
  const value = fields.member(key);
  return fields.pathOf(key) + " " + (value === null ? "absent" : value.describe());
}

class KeyAuthParser extends ConfigParser<KeyAuthConfig> {
  parse(fields: ConfigObject, global: KeyAuthConfig | null): KeyAuthConfig | null {
    const reader = fields.reader;
    // A `_rules_` entry only adds `allow`; everything else comes from the global config.
    if (fields.path.startsWith("_rules_")) {
      if (global === null) {
        reader.fail("keys is required (a rule needs the global keys and consumers)");
        return null;
      }
      const allow = fields.stringList("allow", true);
      if (reader.failed) return null;
      if (allow === null) reader.fail("allow is required at " + fields.pathOf("allow"));
      else if (allow.length == 0) reader.fail("allow cannot be empty at " + fields.pathOf("allow"));
      return reader.failed ? null : global.withAllow(allow!);
    }
    const config = new KeyAuthConfig();
    config.globalAuth = fields.lenientBool("global_auth");
    const keys = fields.stringList("keys", true);
    if (reader.failed) return null;
    if (keys === null) reader.fail("keys is required");
    else if (keys.length == 0) reader.fail("keys cannot be empty");
    else {
      for (let i = 0; i < keys.length; i++) {
        if (keys[i].length == 0) reader.fail(fields.pathOf("keys") + "[" + i.toString() + "] must be a non-empty string");
      }
      config.keys = keys;
      for (let i = 0; i < keys.length; i++) config.headerKeys.push(lowerAscii(keys[i]));
    }
    if (reader.failed) return null;
    config.inHeader = fields.lenientBool(IN_HEADER) == 1;
    config.inQuery = fields.lenientBool(IN_QUERY) == 1;
    if (reader.failed) return null;
    if (!config.inHeader && !config.inQuery) {
      // Higress refuses only when both are absent; with both false every request would be 401.
      reader.fail(fields.pathOf(IN_HEADER) + " or " + fields.pathOf(IN_QUERY) + " must be true, got " + flagOf(fields, IN_HEADER) + " and " + flagOf(fields, IN_QUERY));
      return null;
    }
    config.hideCredentials = fields.lenientBool("hide_credentials") == 1;
    const consumers = fields.objectList("consumers");
    if (reader.failed) return null;
    if (consumers === null) {
      reader.fail("consumers is required");
      return null;
    }
    if (consumers.length == 0) {
      reader.fail("consumers cannot be empty");
      return null;
    }
    const owners = new Map<string, string>();
    for (let i = 0; i < consumers.length && !reader.failed; i++) {
      readConsumer(consumers[i], config, owners);
      if (!reader.failed) consumers[i].done();
    }
    return reader.failed ? null : config;
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
