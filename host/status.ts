/** Proxy-wasm status codes and what a VM needs from the stream a context belongs to. */
import type { HeaderList } from "./stream-api.ts";

// The AssemblyScript enum is plain TypeScript, so host and guest share one definition.
import { Status } from "../shared/abi/enums.ts";

export { Status };

export interface HeaderMapView {
  headers: HeaderList;
  writable: boolean;
}

/** Host-side state of one stream context, as the VM's host calls see it. */
export interface StreamAccess {
  /** The map if available now (Envoy's availability rules), else null. */
  headerMap(mapType: number): HeaderMapView | null;
  inLogPhase(): boolean;
  /** The body visible to the callback in progress (0 request, 1 response), else null. */
  body(bufferType: number): Uint8Array | null;
  setBody(bufferType: number, start: number, size: number, data: Uint8Array): Status;
  property(path: string[]): Uint8Array | null;
  setFilterState(name: string, value: Uint8Array): void;
  /** False when this stream already sent a local reply (the second call gets BadArgument). */
  claimLocalReply(): boolean;
  sendLocalReply(status: number, details: string, body: Uint8Array, headers: HeaderList): void;
  /** Called at once when the plugin calls continue_stream (Envoy drops the request headers then). */
  onContinueCalled(streamType: number): void;
  continueStream(streamType: number): void;
  closeStream(streamType: number): void;
}
