/**
 * Host names as Envoy compares them (decision G9): case-insensitive, port ignored. The request's
 * authority is folded once per request (`hostOf`), each `_match_domain_` pattern once when parsed
 * (`DomainPattern`), so matching a pattern is one comparison that allocates nothing.
 */
import { lowerAscii } from "../text/index";

/**
 * The host of an authority, lower-case, without port and without the trailing dot of an absolute
 * name (`API.Example.COM.:443` → `api.example.com`); `authority` itself, unallocated, when nothing
 * changes. The last ":" is a port separator unless a "]" follows it (IPv6 literals, `[::1]:8080`
 * → `[::1]`), as Higress strips it.
 */
export function hostOf(authority: string): string {
  let end = authority.length;
  const colon = authority.lastIndexOf(":");
  if (colon >= 0 && authority.indexOf("]", colon) < 0) end = colon;
  // `example.com.` names the same host as `example.com`; a rule must not be escaped by the dot.
  if (end > 1 && authority.charCodeAt(end - 1) == 0x2e) end--;
  return lowerAscii(end == authority.length ? authority : authority.slice(0, end));
}

/**
 * A Higress domain pattern: `*suffix`, `prefix*`, or exact; `*` matches any host. Lower-cased,
 * its `*` taken off once, so `matches` compares a host from `hostOf` without slicing anything.
 */
export class DomainPattern {
  /** The pattern without its `*`, lower-case. */
  text: string;
  /** -1 for `*suffix` (and `*`), 1 for `prefix*`, 0 for an exact name. */
  wildcard: i32 = 0;

  constructor(pattern: string) {
    const folded = lowerAscii(pattern);
    if (folded.startsWith("*")) {
      this.wildcard = -1;
      this.text = folded.slice(1);
    } else if (folded.endsWith("*")) {
      this.wildcard = 1;
      this.text = folded.slice(0, folded.length - 1);
    } else this.text = folded;
  }

  matches(host: string): bool {
    if (this.wildcard < 0) return host.endsWith(this.text);
    if (this.wildcard > 0) return host.startsWith(this.text);
    return host == this.text;
  }
}
