/** Who is calling: reads each source group's keys from headers and the query, and finds the consumer. */
import { HeaderPairs, getRequestHeaderPairs, getRequestHeader, setRequestHeader, removeRequestHeader } from "../../shared/index";
import { splitPath, parseQuery, QueryParam } from "../../shared/url/index";
import { lowerAscii } from "../../shared/text/index";
import { KeyAuthConfig } from "./config";
import { KeySources } from "./sources";
import { KeyAuthError, NO_KEY, MULTIPLE_KEYS, INVALID_KEY, NOT_ALLOWED } from "./errors";

const AUTHORIZATION = "authorization";
const BEARER = "bearer ";
/** How the console writes a Bearer credential: `Bearer <token>`. */
const CANONICAL_BEARER = "Bearer ";

/** The result of authentication: a consumer, or the error to answer with. */
export class Verdict {
  consumer: string = "";
  error: KeyAuthError | null = null;
  /** Where the key came from, for hide_credentials: a header name, or "" for the query. */
  header: string = "";
  queryKey: string = "";
}

/** What one group's sources carry in this request: how many values, and the last one with where it was. */
class Reading {
  count: i32 = 0;
  value: string = "";
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

/** The consumer index `value` (read from `header`, "" for the query) names in `sources`; -1 for none. */
function lookup(sources: KeySources, header: string, value: string): i32 {
  const credentials = sources.credentials;
  if (credentials.has(value)) return credentials.get(value);
  // Decision K5: `Authorization: Bearer <token>` matches a credential <token>, and the console's
  // `Bearer <token>` whatever the scheme's case or spacing (RFC 9110: the scheme is case-insensitive).
  if (header == AUTHORIZATION && value.length > BEARER.length && lowerAscii(value.slice(0, BEARER.length)) == BEARER) {
    const token = value.slice(BEARER.length).trim();
    if (credentials.has(token)) return credentials.get(token);
    const canonical = CANONICAL_BEARER + token;
    if (credentials.has(canonical)) return credentials.get(canonical);
  }
  return -1;
}

/** Counts the values `sources` reads; every one counts: two x-api-key headers are two keys (K2). */
function read(sources: KeySources, headers: HeaderPairs | null, params: Array<QueryParam> | null, out: Reading): void {
  out.count = 0;
  if (sources.inHeader && headers !== null) {
    for (let k = 0; k < sources.headerKeys.length; k++) {
      const name = unchecked(sources.headerKeys[k]);
      const values = headers.values(name);
      for (let i = 0; i < values.length; i++) {
        if (unchecked(values[i]).length == 0) continue;
        out.count++;
        out.value = unchecked(values[i]);
        out.header = name;
        out.queryKey = "";
      }
    }
  }
  if (sources.inQuery && params !== null) {
    for (let i = 0; i < params.length; i++) {
      const p = unchecked(params[i]);
      // A pair with a bad escape is absent, never a way around authentication (K7).
      if (!p.valid || !sources.keys.includes(p.name)) continue;
      out.count++;
      out.value = p.value;
      out.header = "";
      out.queryKey = p.name;
    }
  }
}

function requestQuery(): Array<QueryParam> | null {
  const path = getRequestHeader(":path");
  return path === null ? null : parseQuery(splitPath(path).query);
}

/**
 * Reads the keys of this request (only valid in onRequestHeaders) and decides: the request is the
 * first consumer, in config order, whose own sources carry exactly one value and it is one of its
 * credentials. One lookup per source group, never one per consumer.
 */
export function authenticate(config: KeyAuthConfig): Verdict {
  const verdict = new Verdict();
  const headers = config.readsHeaders ? getRequestHeaderPairs() : null;
  const params = config.readsQuery ? requestQuery() : null;
  const reading = new Reading();
  let found = -1;
  let anyKey = false;
  let severalKeys = false;
  const groups = config.groups;
  for (let g = 0; g < groups.length; g++) {
    const sources = unchecked(groups[g]);
    read(sources, headers, params, reading);
    if (reading.count == 0) continue;
    anyKey = true;
    // Several values for one group: which one its consumer meant is a guess, so none counts.
    if (reading.count > 1) {
      severalKeys = true;
      continue;
    }
    const consumer = lookup(sources, reading.header, reading.value);
    if (consumer < 0 || (found >= 0 && consumer > found)) continue;
    found = consumer;
    verdict.header = reading.header;
    verdict.queryKey = reading.queryKey;
  }
  if (found < 0) {
    verdict.error = severalKeys ? MULTIPLE_KEYS : anyKey ? INVALID_KEY : NO_KEY;
    return verdict;
  }
  const consumer = unchecked(config.names[found]);
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
