/** The Higress `_rules_` matcher. */
export { MatchCategory, Rule, RuleSet, serviceMatches } from "./match";
export { hostOf, DomainPattern } from "./host";
export { ConfigParser, RuleOptions, parseRules, ParsedConfig, parsePluginConfig, NO_MATCH_KEY_ERROR } from "./parse";
export { selectConfig, acceptConfig } from "./select";
