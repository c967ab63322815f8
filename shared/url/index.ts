/** URL pieces the plugins need: `:path` splitting and query/form decoding. */
export { PathParts, splitPath, decodeComponent, QueryParam, parseQuery, parseForm, getQueryValues, hasInvalid } from "./query";
