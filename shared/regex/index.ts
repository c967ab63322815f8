/** Linear-time RE2-subset regular expressions for `regexp:` rate-limit keys. */
export { Regex, RegexResult, compileRegex } from "./regex";
