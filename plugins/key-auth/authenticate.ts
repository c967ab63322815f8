/** Who is calling: collects API keys from headers and the query, and checks them against the consumers. */
import { getRequestHeaderPairs, getRequestHeader, setRequestHeader, removeRequestHeader } from "../../shared/index";
import { splitPath, parseQuery, QueryParam } from "../../shared/url/index";
import { lowerAscii } from "../../shared/text/index";
import { KeyAuthConfig } from "./config";
import { KeyAuthError, NO_KEY, MULTIPLE_KEYS, INVALID_KEY, NOT_ALLOWED } from "./errors";

const AUTHORIZATION = "authorization";
const BEARER = "bearer ";

/** The result of authentication: a consumer, or the error to answer with. */
export class Verdict {
  consumer: string = "";
  error: KeyAuthError | null = null;
  /** Where the key came from, for hide_credentials: a header name, or "" for the query. */
  header: string = "";
  queryKey: string = "";
}

/** §2.3: a rule always authenticates; the global config does unless global_auth is false, or unset with rules present. */
export function needsAuthentication(config: KeyAuthConfig, hasRules: bool): bool {
  if (config.allow !== null) return true;
  if (config.globalAuth == 1) return true;
  if (config.globalAuth == 0) return false;
  return !hasRules;
}

function lookup(config: KeyAuthConfig, header: string, value: string): string | null {
  const credentials = config.credentials;
  if (credentials.has(value)) return credentials.get(value);
  // Decision K5: `Authorization: Bearer <token>` matches a credential equal to <token>.
  if (header == AUTHORIZATION && value.length > BEARER.length && lowerAscii(value.slice(0, BEARER.length)) == BEARER) {
    const token = value.slice(BEARER.length).trim();
    if (credentials.has(token)) return credentials.get(token);
  }
  return null;
}

/** Reads the keys of this request (only valid in onRequestHeaders) and decides. */
export function authenticate(config: KeyAuthConfig): Verdict {
  const verdict = new Verdict();
  let found = 0;
  let value = "";
  if (config.inHeader) {
    // Every value counts: two x-api-key headers are two keys (K2), not "the first one".
    const headers = getRequestHeaderPairs();
    for (let k = 0; k < config.headerKeys.length; k++) {
      const name = unchecked(config.headerKeys[k]);
      const values = headers.values(name);
      for (let i = 0; i < values.length; i++) {
        if (unchecked(values[i]).length == 0) continue;
        found++;
        value = unchecked(values[i]);
        verdict.header = name;
      }
    }
  }
  if (config.inQuery) {
    const path = getRequestHeader(":path");
    if (path !== null) {
      const params = parseQuery(splitPath(path).query);
      for (let i = 0; i < params.length; i++) {
        const p = unchecked(params[i]);
        // A pair with a bad escape is absent, never a way around authentication (K7).
        if (!p.valid || !config.keys.includes(p.name)) continue;
        found++;
        value = p.value;
        verdict.header = "";
        verdict.queryKey = p.name;
      }
    }
  }
  if (found > 1) {
    verdict.error = MULTIPLE_KEYS;
    return verdict;
  }
  if (found == 0) {
    verdict.error = NO_KEY;
    return verdict;
  }
  const consumer = lookup(config, verdict.header, value);
  if (consumer === null) {
    verdict.error = INVALID_KEY;
    return verdict;
  }
  verdict.consumer = consumer;
  const allow = config.allow;
  if (allow !== null && !allow.includes(consumer)) verdict.error = NOT_ALLOWED;
  return verdict;
}

/** Decision K6: the credential does not travel upstream. */
export function hideCredential(verdict: Verdict): void {
  if (verdict.header.length > 0) {
    removeRequestHeader(verdict.header);
    return;
  }
  const path = getRequestHeader(":path");
  if (path === null) return;
  const parts = splitPath(path);
  const kept = new Array<string>();
  const raw = parts.query.split("&");
  const params = parseQuery(parts.query);
  let p = 0;
  for (let i = 0; i < raw.length; i++) {
    const pair = unchecked(raw[i]);
    if (pair.length == 0) continue;
    const param: QueryParam = unchecked(params[p++]);
    if (param.valid && param.name == verdict.queryKey) continue;
    kept.push(pair);
  }
  setRequestHeader(":path", kept.length == 0 ? parts.path : parts.path + "?" + kept.join("&"));
}
