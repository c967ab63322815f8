/** Which counters a request counts against (§3.4): the matched entry's limits and the request's value. */
import { getRequestHeader, getPropertyString, SOURCE_ADDRESS } from "../../shared/index";
import { consumerOf } from "../../shared/identity/consumer";
import { splitPath, parseQuery } from "../../shared/url/index";
import { hostFromAddress } from "../../shared/net/index";
import { Found, MatchBudget, MATCH_STEPS_PER_REQUEST } from "../../shared/regex/index";
import { RateLimitConfig, RuleItem, LimitKey, Limit, Source } from "./config";

/** The counters of one request: key i is `limits[i].keyBytes` followed by `value`. */
export class Counters {
  constructor(public limits: Array<Limit>, public value: string) {}
}

/** Returned when a `regexp:` key could not be decided within the request's budget (VALUE_TOO_LONG). */
export const UNDECIDED = new Counters([], "");

/** The matching steps left to the current request; every search of one request spends from it. */
const budget = new MatchBudget(MATCH_STEPS_PER_REQUEST);

/** The cookie's value: pieces split on ";", trimmed, "name=value" (k=a=b gives "a"); null when absent or empty. */
function cookieValue(name: string): string | null {
  const header = getRequestHeader("cookie");
  if (header === null) return null;
  const pieces = header.split(";");
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i].trim();
    const parts = piece.split("=");
    // A piece without "=" is skipped (Higress panics on it, decision R6).
    if (parts.length < 2 || parts[0] != name) continue;
    return parts[1].length > 0 ? parts[1] : null;
  }
  return null;
}

function paramValue(name: string): string | null {
  const path = getRequestHeader(":path");
  if (path === null) return null;
  const params = parseQuery(splitPath(path).query);
  let found: string | null = null;
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    // A malformed query skips the whole item, as Go's url.ParseQuery fails.
    if (!p.valid) return null;
    if (found === null && p.name == name) found = p.value;
  }
  return found;
}

function ipValue(item: RuleItem): string | null {
  let raw: string | null;
  if (item.ipHeader.length > 0) {
    raw = getRequestHeader(item.ipHeader);
    if (raw !== null) {
      const comma = raw!.trim().indexOf(",");
      raw = comma < 0 ? raw!.trim() : raw!.trim().slice(0, comma);
    }
  } else {
    raw = getPropertyString(SOURCE_ADDRESS);
  }
  if (raw === null) return null;
  const ip = hostFromAddress(raw!);
  return ip === null ? null : ip.toString();
}

function valueOf(item: RuleItem, authenticatedOnly: bool): string | null {
  switch (item.source) {
    case Source.Header:
      return getRequestHeader(item.ruleKey);
    case Source.Param:
      return paramValue(item.ruleKey);
    case Source.Cookie:
      return cookieValue(item.ruleKey);
    case Source.Consumer:
      return consumerOf(authenticatedOnly);
    default:
      return ipValue(item);
  }
}

function matches(item: RuleItem, key: LimitKey, value: string): Found {
  if (item.source == Source.Ip) {
    const ip = hostFromAddress(value);
    return ip !== null && key.cidr !== null && key.cidr!.contains(ip) ? Found.Yes : Found.No;
  }
  if (key.key == value) return Found.Yes;
  if (!item.perValue) return Found.No;
  if (key.any) return Found.Yes;
  return key.regex !== null ? key.regex!.search(value, budget) : Found.No;
}

/** The counters of `key` for `value`: the last ones when the value is the same string (a header value seen lately is; shared/text/utf8.ts). */
function countersFor(key: LimitKey, value: string): Counters {
  const last = key.lastCounters;
  if (last !== null && changetype<usize>(last.value) == changetype<usize>(value)) return last;
  const counters = new Counters(key.limits, value);
  key.lastCounters = counters;
  return counters;
}

/**
 * The counters for this request; null when no rule item matches (then no Redis traffic), UNDECIDED
 * when a value is too long to be matched within MATCH_STEPS_PER_REQUEST: keys are tried in order,
 * so an undecided key leaves unknown which limit applies. Only in onRequestHeaders.
 */
export function chooseCounters(config: RateLimitConfig): Counters | null {
  const global = config.global;
  if (global !== null) {
    if (config.globalCounters === null) config.globalCounters = new Counters(global, "");
    return config.globalCounters;
  }
  budget.remaining = MATCH_STEPS_PER_REQUEST;
  for (let i = 0; i < config.items.length; i++) {
    const item = config.items[i];
    const value = valueOf(item, config.authenticatedConsumerOnly);
    if (value === null) continue;
    for (let k = 0; k < item.keys.length; k++) {
      const key = item.keys[k];
      const found = matches(item, key, value);
      if (found == Found.Yes) return countersFor(key, value);
      if (found == Found.Undecided) return UNDECIDED;
    }
  }
  return null;
}
