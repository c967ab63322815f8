/** The JSON reader for configuration and the string writer for replies. */
export { JsonKind, JsonValue } from "./value";
export { parseJson, JsonParseResult } from "./parse";
export { ConfigReader, ConfigObject, MAX_EXACT_INTEGER } from "./config";
export { jsonString } from "./write";
