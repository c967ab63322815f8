/** The allocator Envoy calls from inside host calls, adoption of the blocks it returns, and when to collect. */
import { decodeUtf8 } from "../text/utf8";

// Design (b) of proxy-wasm-abi.md §5.2: host blobs land in raw heap blocks that we copy into a
// managed ArrayBuffer and free at once, so nothing stays pinned or leaks.

/** Called by the host to place a returned blob; never returns 0 for a valid size. */
export function allocate(size: u32): usize {
  return heap.alloc(size == 0 ? 1 : <usize>size);
}

/** Copies a host-returned block into a managed buffer and frees the block; pointer 0 means empty. */
export function adopt(ptr: usize, size: u32): ArrayBuffer {
  const buffer = new ArrayBuffer(<i32>size);
  adoptedBytes += size;
  if (ptr != 0) {
    memory.copy(changetype<usize>(buffer), ptr, <usize>size);
    heap.free(ptr);
  }
  return buffer;
}

/** Decodes a host-returned block as UTF-8 and frees it; pointer 0 means empty. */
export function adoptString(ptr: usize, size: u32): string {
  if (ptr == 0) return "";
  adoptedBytes += size;
  const text = decodeUtf8(ptr, <usize>size);
  heap.free(ptr);
  return text;
}

/** Frees a host-returned block without reading it. */
export function release(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}

// The build uses the minimal runtime (asconfig.json): no shadow stack, no write barriers, no GC
// steps inside allocations, which makes modules a third smaller and callbacks about twice as fast.
// It never collects by itself and cannot see references held in wasm locals, so we collect only
// when the outermost callback has returned: then every live object is reachable from a global
// (the context registry, configs, pending Redis callbacks). The allocator export above is called
// re-entrantly from inside host calls and never collects.

/** Callbacks between collections: a chat is about ten; marking the live heap is paid once per 25 chats. */
const CALLBACKS_PER_COLLECTION: u32 = 256;
/** Host bytes adopted (bodies, replies) that force a collection sooner, keeping streams flat. */
const ADOPTED_BYTES_PER_COLLECTION: u32 = 256 << 10;

let depth: u32 = 0;
let callbacks: u32 = 0;
let adoptedBytes: u32 = 0;

/** Marks the start of an exported callback. */
export function enterCallback(): void {
  depth++;
}

/** Marks its end; the outermost one collects when enough garbage may have piled up. */
export function leaveCallback(): void {
  if (--depth != 0) return;
  if (++callbacks < CALLBACKS_PER_COLLECTION && adoptedBytes < ADOPTED_BYTES_PER_COLLECTION) return;
  callbacks = 0;
  adoptedBytes = 0;
  __collect();
}
