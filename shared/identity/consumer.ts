/**
 * Who is calling, as the AI plugins read it (the trust model: top-level README, "Identity").
 *
 * key-auth sets `X-Mse-Consumer` on the requests it authenticates, as Higress does, and also
 * records the same name in the stream's filter state (proxy_set_property: Envoy keeps it as
 * `wasm.key_auth_consumer` in the stream's StreamInfo, shared by the stream's filters and gone with
 * it). A client can send the header, and on a route key-auth passes through it reaches the AI
 * plugins untouched; no client can write filter state. With `authenticated_consumer_only`, the AI
 * plugins take the consumer from that record only, so a route without authentication has none.
 */
import { PropertyPath, getPropertyString, getRequestHeader, setProperty } from "../index";

/** The header Higress's auth plugins set and its AI plugins read. */
export const CONSUMER_HEADER = "x-mse-consumer";
/** The AI plugins' option, in their configs: take the consumer from key-auth's record only. */
export const AUTHENTICATED_CONSUMER_ONLY = "authenticated_consumer_only";
const AUTHENTICATED_CONSUMER = new PropertyPath(["key_auth_consumer"]);

/** key-auth, once it has authenticated `name`. */
export function recordAuthenticatedConsumer(name: string): void {
  setProperty(AUTHENTICATED_CONSUMER, String.UTF8.encode(name));
}

/** The consumer: key-auth's record with `authenticatedOnly`, else the header (Higress); null when none. */
export function consumerOf(authenticatedOnly: bool): string | null {
  return authenticatedOnly ? getPropertyString(AUTHENTICATED_CONSUMER) : getRequestHeader(CONSUMER_HEADER);
}
