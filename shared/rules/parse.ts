/** Parsing the Higress config shape: global fields plus `_rules_` (higress-behavior.md §1.2). */
import { JsonValue, ConfigReader, ConfigObject, parseJson } from "../json/index";
import { MatchCategory, Rule, RuleSet } from "./match";
import { DomainPattern } from "./host";

const RULES_KEY = "_rules_";
const PLUGIN_ID_KEY = "_plugin_id_";
const MATCH_ROUTE = "_match_route_";
const MATCH_DOMAIN = "_match_domain_";
const MATCH_SERVICE = "_match_service_";
const MATCH_ROUTE_PREFIX = "_match_route_prefix_";
/** Higress's words, double space included. */
export const NO_MATCH_KEY_ERROR = "there is at least one of  '_match_route_', '_match_domain_', '_match_service_' and '_match_route_prefix_' can present in configuration.";

/**
 * Reads one config object (global or rule). `global` is the parsed global config for
 * override-style plugins (null when there is none); plain-style plugins ignore it.
 */
export abstract class ConfigParser<T> {
  abstract parse(fields: ConfigObject, global: T | null): T | null;
}

export class RuleOptions {
  /** key-auth: a rule is parsed together with the global config (it inherits its fields). */
  overrideStyle: bool = false;
  /** Decision K8: a global config that fails to parse fails configuration even when rules exist. */
  strictGlobal: bool = false;
}

function matchList(rule: ConfigObject, key: string): Array<string> {
  const list = rule.stringList(key);
  return list === null ? new Array<string>() : list;
}

/** Parses the whole plugin configuration; null when rejected (the reader holds the error). */
export function parseRules<T>(reader: ConfigReader, value: JsonValue, parser: ConfigParser<T>, options: RuleOptions): RuleSet<T> | null {
  const root = reader.root(value);
  if (reader.failed) return null;
  const set = new RuleSet<T>();
  root.skip(PLUGIN_ID_KEY);
  const rulesValue = root.array(RULES_KEY);
  const ruleCount = rulesValue === null ? 0 : rulesValue.items.length;

  let hasGlobalFields = value.keys.length == 0;
  for (let i = 0; i < value.keys.length; i++) {
    const key = unchecked(value.keys[i]);
    if (key != RULES_KEY && key != PLUGIN_ID_KEY) hasGlobalFields = true;
  }
  let globalError = "<nil>";
  if (hasGlobalFields) {
    // Parsed on its own reader: with rules present Higress remembers a global error without failing.
    const globalReader = new ConfigReader(reader.plugin);
    const fields = new ConfigObject(globalReader, value, "");
    fields.skip(RULES_KEY);
    fields.skip(PLUGIN_ID_KEY);
    const global = parser.parse(fields, null);
    if (!globalReader.failed) fields.done();
    for (let i = 0; i < globalReader.warnings.length; i++) reader.warnings.push(unchecked(globalReader.warnings[i]));
    if (globalReader.failed || global === null) {
      globalError = globalReader.error;
      // A value Higress would have taken but we refuse cannot be dropped silently with the
      // global config: unmatched requests would lose the limit or check it set.
      if (ruleCount == 0 || options.strictGlobal || globalReader.beyondHigress) {
        reader.fail(globalError.slice(reader.plugin.length + 2));
        return null;
      }
      reader.warn("global config ignored (as Higress, with _rules_): " + globalError.slice(reader.plugin.length + 2));
    } else {
      set.global = global;
    }
  }
  if (ruleCount == 0) {
    if (set.global === null) {
      reader.fail("parse config failed, no valid rules; global config parse error:" + globalError);
      return null;
    }
    return set;
  }
  const rules = root.objectList(RULES_KEY);
  if (rules === null || reader.failed) return null;
  for (let i = 0; i < rules.length; i++) {
    const rule = unchecked(rules[i]);
    const routes = matchList(rule, MATCH_ROUTE);
    const domains = matchList(rule, MATCH_DOMAIN);
    const services = matchList(rule, MATCH_SERVICE);
    const prefixes = matchList(rule, MATCH_ROUTE_PREFIX);
    if (reader.failed) return null;
    if (routes.length + domains.length + services.length + prefixes.length == 0) {
      reader.fail(NO_MATCH_KEY_ERROR);
      return null;
    }
    // Lower-priority match keys in the same rule are ignored, as Higress does.
    let category = MatchCategory.RoutePrefix;
    if (routes.length > 0) category = services.length > 0 ? MatchCategory.RouteAndService : MatchCategory.Route;
    else if (domains.length > 0) category = MatchCategory.Host;
    else if (services.length > 0) category = MatchCategory.Service;
    const config = parser.parse(rule, options.overrideStyle ? set.global : null);
    if (reader.failed || config === null) {
      if (!reader.failed) reader.fail(rule.path + " is not a valid configuration");
      // Higress's words name no path ("missing rule_name in config"): say which rule it was.
      else if (!reader.error.includes(rule.path)) reader.error += " (in " + rule.path + ")";
      return null;
    }
    rule.done();
    const patterns = new Array<DomainPattern>();
    if (category == MatchCategory.Host) for (let d = 0; d < domains.length; d++) patterns.push(new DomainPattern(unchecked(domains[d])));
    set.rules.push(new Rule<T>(category, routes, patterns, services, prefixes, config));
    if (category == MatchCategory.Host) set.needsAuthority = true;
    if (category == MatchCategory.Route || category == MatchCategory.RouteAndService || category == MatchCategory.RoutePrefix) set.needsRoute = true;
    if (category == MatchCategory.Service || category == MatchCategory.RouteAndService) set.needsCluster = true;
  }
  return set;
}


/** A plugin configuration as parsed: the rule set (null when rejected) and what the reader said. */
export class ParsedConfig<T> {
  constructor(public rules: RuleSet<T> | null, public reader: ConfigReader) {}
}

/** Parses a plugin's configuration text: invalid JSON and every rejection name the plugin and field. */
export function parsePluginConfig<T>(plugin: string, text: string, parser: ConfigParser<T>, options: RuleOptions): ParsedConfig<T> {
  const reader = new ConfigReader(plugin);
  const json = parseJson(text);
  if (json.value === null) {
    // Too deep is valid JSON we refuse to read; its message starts with the path where it was cut.
    reader.fail(json.tooDeep ? json.error : "configuration is not valid JSON: " + json.error);
    return new ParsedConfig<T>(null, reader);
  }
  return new ParsedConfig<T>(parseRules<T>(reader, json.value!, parser, options), reader);
}
