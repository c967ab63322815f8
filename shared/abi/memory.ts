/** The allocator Envoy calls from inside host calls, adoption of the blocks it returns, and when to collect. */
import { decodeUtf8Recent } from "../text/utf8";

// Design (b) of proxy-wasm-abi.md §5.2: host blobs land in raw blocks that we copy into a
// managed ArrayBuffer (or read in place) and free at once, so nothing stays pinned or leaks.
//
// Nearly every blob (a header value, a property, a Redis reply, a body chunk) is read and freed
// before the next host call, so one reused landing block takes them: no heap search on the way
// in, no heap merge on the way out. A blob that arrives while it is taken, or is larger, goes to
// the heap. Nothing may hold a blob past its callback, so the block is free again after each one.
const LANDING_SIZE: usize = 16 << 10;
let landing: usize = 0;
let landingTaken = false;

/** Called by the host to place a returned blob; never returns 0 for a valid size. */
export function allocate(size: u32): usize {
  if (!landingTaken && <usize>size <= LANDING_SIZE) {
    if (landing == 0) landing = heap.alloc(LANDING_SIZE);
    landingTaken = true;
    return landing;
  }
  return heap.alloc(size == 0 ? 1 : <usize>size);
}

/** Copies a host-returned block into a managed buffer and frees the block; pointer 0 means empty. */
export function adopt(ptr: usize, size: u32): ArrayBuffer {
  const buffer = new ArrayBuffer(<i32>size);
  adoptedBytes += size;
  if (ptr != 0) {
    memory.copy(changetype<usize>(buffer), ptr, <usize>size);
    release(ptr);
  }
  return buffer;
}

/** Decodes a host-returned block as UTF-8 and frees it; pointer 0 means empty. */
export function adoptString(ptr: usize, size: u32): string {
  if (ptr == 0) return "";
  adoptedBytes += size;
  const text = decodeUtf8Recent(ptr, <usize>size);
  release(ptr);
  return text;
}

/** Frees a host-returned block (after reading it in place, or without reading it). Inlined: every host call that returns data ends here. */
@inline
export function release(ptr: usize): void {
  if (ptr == landing) landingTaken = false;
  else if (ptr != 0) heap.free(ptr);
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
  landingTaken = false;
  if (++callbacks < CALLBACKS_PER_COLLECTION && adoptedBytes < ADOPTED_BYTES_PER_COLLECTION) return;
  callbacks = 0;
  adoptedBytes = 0;
  __collect();
}
