// Decides from response headers whether the body is text the usage reader can read.
import { lowerAscii } from "../text/index";

/** True when the body is uncompressed JSON or SSE (or untyped); compressed or binary bodies are skipped. */
export function shouldReadUsage(contentType: string | null, contentEncoding: string | null): bool {
  if (contentEncoding != null) {
    const encoding = lowerAscii(contentEncoding.trim());
    if (encoding.length > 0 && encoding != "identity") return false;
  }
  if (contentType == null) return true;
  const type = lowerAscii(contentType.trim());
  if (type.length == 0) return true;
  return type.includes("json") || type.includes("event-stream") || type.startsWith("text/plain");
}
