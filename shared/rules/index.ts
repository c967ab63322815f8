/** The Higress `_rules_` matcher. */
export { MatchCategory, Rule, RuleSet, stripPort, domainMatches, serviceMatches } from "./match";
export { ConfigParser, RuleOptions, parseRules, ParsedConfig, parsePluginConfig, NO_MATCH_KEY_ERROR } from "./parse";
export { selectConfig, acceptConfig } from "./select";
