/** Linear-time RE2-subset regular expressions for `regexp:` rate-limit keys, with bounded work. */
export { Regex, RegexResult, compileRegex, Found, MatchBudget, MAX_STATES, MATCH_STEPS_PER_REQUEST, POSITION_STEPS } from "./regex";
export { MAX_REPEAT } from "./parse";
