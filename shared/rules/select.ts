/** Picks the config for the request in progress, reading only the facts the rules need. */
import { getRequestHeader, hasRequestHeader, getPropertyString, logError, logWarn, ROUTE_NAME, CLUSTER_NAME } from "../index";
import { RuleSet } from "./match";
import { ParsedConfig } from "./parse";

/**
 * The config for this request, or null when none applies (the plugin then does nothing).
 * Only valid in onRequestHeaders. Without `:authority` the plugin is skipped, as Higress.
 */
export function selectConfig<T>(set: RuleSet<T>): T | null {
  if (set.rules.length == 0) return hasRequestHeader(":authority") ? set.global : null;
  const authority = getRequestHeader(":authority");
  if (authority === null) return null;
  let route = "";
  let cluster = "";
  if (set.needsRoute) {
    const value = getPropertyString(ROUTE_NAME);
    if (value !== null) route = value;
  }
  if (set.needsCluster) {
    const value = getPropertyString(CLUSTER_NAME);
    if (value !== null) cluster = value;
  }
  return set.select(authority, route, cluster);
}

/** For onConfigure: logs the warnings and the rejection (one error line naming the field); null when rejected. */
export function acceptConfig<T>(parsed: ParsedConfig<T>): RuleSet<T> | null {
  const reader = parsed.reader;
  for (let i = 0; i < reader.warnings.length; i++) logWarn(unchecked(reader.warnings[i]));
  if (parsed.rules === null) logError(reader.error);
  return parsed.rules;
}
