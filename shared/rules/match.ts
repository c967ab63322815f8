/** Pure matching of Higress `_rules_` entries against a request's authority, route and cluster. */
import { hostOf, DomainPattern } from "./host";

export enum MatchCategory {
  Route,
  RouteAndService,
  Host,
  Service,
  RoutePrefix,
}

/** `name` matches the cluster's fqdn; `name:port` also needs the port (cluster `outbound|port||fqdn`). */
export function serviceMatches(pattern: string, clusterName: string): bool {
  const parts = clusterName.split("|");
  if (parts.length != 4) return false;
  const port = unchecked(parts[1]);
  const fqdn = unchecked(parts[3]);
  const colon = pattern.lastIndexOf(":");
  if (colon >= 0) return pattern.slice(0, colon) == fqdn && pattern.slice(colon + 1) == port;
  return pattern == fqdn;
}

/** One `_rules_` entry: what it matches on, and the plugin config it carries. */
export class Rule<T> {
  constructor(
    public category: MatchCategory,
    public routes: Array<string>,
    public domains: Array<DomainPattern>,
    public services: Array<string>,
    public routePrefixes: Array<string>,
    public config: T,
  ) {}

  /** `host` is the request's authority as `hostOf` gives it. */
  matches(host: string, routeName: string, clusterName: string): bool {
    switch (this.category) {
      case MatchCategory.Route:
        return this.routes.includes(routeName);
      case MatchCategory.RouteAndService:
        return this.routes.includes(routeName) && anyService(this.services, clusterName);
      case MatchCategory.Host: {
        for (let i = 0; i < this.domains.length; i++) if (unchecked(this.domains[i]).matches(host)) return true;
        return false;
      }
      case MatchCategory.Service:
        return anyService(this.services, clusterName);
      default:
        for (let i = 0; i < this.routePrefixes.length; i++) if (routeName.startsWith(unchecked(this.routePrefixes[i]))) return true;
        return false;
    }
  }
}

function anyService(patterns: Array<string>, clusterName: string): bool {
  for (let i = 0; i < patterns.length; i++) if (serviceMatches(unchecked(patterns[i]), clusterName)) return true;
  return false;
}

/** A parsed plugin configuration: an optional global config and rules tried in order. */
export class RuleSet<T> {
  global: T | null = null;
  rules: Array<Rule<T>> = [];
  /** Which request facts some rule needs, so the plugin reads only those. */
  needsAuthority: bool = false;
  needsRoute: bool = false;
  needsCluster: bool = false;

  /** Every config: the global one (if any), then each rule's. */
  all(): Array<T> {
    const out = new Array<T>();
    const global = this.global;
    if (global !== null) out.push(global);
    for (let i = 0; i < this.rules.length; i++) out.push(unchecked(this.rules[i]).config);
    return out;
  }

  /** The first matching rule's config, else the global one, else null (the plugin does nothing). */
  select(authority: string, routeName: string, clusterName: string): T | null {
    // Folded once per request, not per rule; unallocated when already lower-case without a port.
    const host = this.needsAuthority ? hostOf(authority) : authority;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = unchecked(this.rules[i]);
      if (rule.matches(host, routeName, clusterName)) return rule.config;
    }
    return this.global;
  }
}
