/**
 * Host names as Envoy compares them (decision G9): case-insensitive, port ignored. The request's
 * authority is folded once per request (`hostOf`), the `_match_domain_` patterns once when parsed
 * (`domainPattern`), so matching each pattern is a plain comparison.
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

/** A `_match_domain_` pattern as hosts are compared: lower-case, an exact or `*suffix` name without its trailing dot. */
export function domainPattern(pattern: string): string {
  const folded = lowerAscii(pattern);
  if (!folded.endsWith(".") || folded.endsWith("*.") || folded.length < 2) return folded;
  return folded.slice(0, folded.length - 1);
}
