// Decides from response headers whether the body is text the usage reader can read.
import { indexOfAsciiCaseless } from "../text/index";

const IDENTITY = "identity";

/** True when a Content-Encoding value (request's or response's) leaves the body's bytes as sent: absent, empty or `identity`. */
export function isIdentityEncoding(contentEncoding: string | null): bool {
  if (contentEncoding === null) return true;
  const encoding = contentEncoding.trim();
  return encoding.length == 0 || (encoding.length == IDENTITY.length && indexOfAsciiCaseless(encoding, IDENTITY) == 0);
}

/** True when the body is uncompressed JSON or SSE (or untyped); compressed or binary bodies are skipped. */
export function shouldReadUsage(contentType: string | null, contentEncoding: string | null): bool {
  if (!isIdentityEncoding(contentEncoding)) return false;
  if (contentType == null) return true;
  // Matched in place, case folded: this runs on every response.
  const type = contentType.trim();
  if (type.length == 0) return true;
  return indexOfAsciiCaseless(type, "json") >= 0 || indexOfAsciiCaseless(type, "event-stream") >= 0 || indexOfAsciiCaseless(type, "text/plain") == 0;
}
