/**
 * Which AI plugin on a route removes the usage event that include_usage injection caused (A1).
 *
 * With ai-quota and ai-token-ratelimit on one route, the first (in filter order) may add
 * include_usage; the second then sees a request that already asks for usage and cannot tell it
 * from a client that did. Both must read the usage; the client must not get it. Envoy runs
 * response filters in reverse order, so the plugin that reads the request first reads the
 * response last: that one, the outermost usage reader, removes the event, and only when some
 * plugin on the stream injected the option (itself, or an inner one whose outer neighbour has
 * `inject_stream_usage: false`).
 *
 * They agree through the stream's filter state (proxy_set_property, kept by Envoy as
 * `wasm.<name>` in the stream's StreamInfo, shared by every filter of that stream and gone with
 * it). A client cannot write filter state; a request header could be forged by the client and
 * would reach the upstream unless removed by a plugin that cannot know it is the last one.
 */
import { PropertyPath, getProperty, setProperty } from "../index";

const STREAM_MARK = new PropertyPath(["ai_token_plugins_stream_usage"]);
/** A usage reader reads this stream's request; include_usage is as the client sent it. */
const READ: u8 = 0x31;
/** A plugin added include_usage to this stream's request. */
const INJECTED: u8 = 0x32;

function mark(value: u8): void {
  const bytes = new ArrayBuffer(1);
  store<u8>(changetype<usize>(bytes), value);
  setProperty(STREAM_MARK, bytes);
}

/**
 * Called when a plugin has read a streaming request's body (`injected`: it added include_usage).
 * Returns true when this plugin is the first usage reader of the stream, the one that removes.
 */
export function markStreamRequest(injected: bool): bool {
  const outermost = getProperty(STREAM_MARK) === null;
  if (injected) mark(INJECTED);
  else if (outermost) mark(READ);
  return outermost;
}

/** At response time: true when some plugin on this stream added include_usage. */
export function streamUsageInjected(): bool {
  const value = getProperty(STREAM_MARK);
  return value !== null && value.byteLength == 1 && load<u8>(changetype<usize>(value)) == INJECTED;
}
