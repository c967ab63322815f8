/** What ai-statistics reads from a request's path, route and content type, as Higress does. */

/** The path without its query. */
function withoutQuery(path: string): string {
  const query = path.indexOf("?");
  return query < 0 ? path : path.substring(0, query);
}

/** enable_path_suffixes: every path when empty, else one whose path (query left out) ends with a suffix. */
export function pathEnabled(path: string, suffixes: Array<string>): bool {
  if (suffixes.length == 0) return true;
  const plain = withoutQuery(path);
  for (let i = 0; i < suffixes.length; i++) if (plain.endsWith(unchecked(suffixes[i]))) return true;
  return false;
}

/** enable_content_types (non-empty): the answer's content type contains one of them. */
export function contentTypeEnabled(contentType: string | null, types: Array<string>): bool {
  const type = contentType === null ? "" : contentType;
  for (let i = 0; i < types.length; i++) if (type.includes(unchecked(types[i]))) return true;
  return false;
}

/** Word characters of `\w`. */
function isWord(c: i32): bool {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c == 0x5f;
}

const MODELS = "/models/";
const CONTENT = "Content";

/**
 * The model of a Gemini path, `…/<version>/models/<model>:<method>Content` (`gemini-2.0-flash` of
 * `/v1beta/models/gemini-2.0-flash:streamGenerateContent`), for a request whose body names none;
 * "" when the path is not one. The query is left out (Higress matches the path with it, so
 * `?alt=sse` streams found no model there).
 */
export function geminiModel(path: string): string {
  const plain = withoutQuery(path);
  const at = plain.lastIndexOf(MODELS);
  // A version segment, not empty, before /models/.
  const version = at > 0 ? plain.lastIndexOf("/", at - 1) : -1;
  if (version < 0 || version >= at - 1) return "";
  const rest = plain.substring(at + MODELS.length);
  const colon = rest.indexOf(":");
  if (colon <= 0) return "";
  const method = rest.substring(colon + 1);
  if (method.length <= CONTENT.length || !method.endsWith(CONTENT)) return "";
  for (let i = 0; i < method.length; i++) if (!isWord(method.charCodeAt(i))) return "";
  return rest.substring(0, colon);
}

/** Higress's API name: the first three `@` parts of a route name with at least three; null for any other route. */
export function apiName(route: string): string | null {
  const first = route.indexOf("@");
  if (first < 0) return null;
  const second = route.indexOf("@", first + 1);
  if (second < 0) return null;
  const third = route.indexOf("@", second + 1);
  return third < 0 ? route : route.substring(0, third);
}
