/** The allocator Envoy calls from inside host calls, and adoption of the blocks it returns. */

// Design (b) of proxy-wasm-abi.md §5.2: host blobs land in raw heap blocks that we copy into a
// managed ArrayBuffer and free at once, so nothing stays pinned or leaks.

/** Called by the host to place a returned blob; never returns 0 for a valid size. */
export function allocate(size: u32): usize {
  return heap.alloc(size == 0 ? 1 : <usize>size);
}

/** Copies a host-returned block into a managed buffer and frees the block; pointer 0 means empty. */
export function adopt(ptr: usize, size: u32): ArrayBuffer {
  const buffer = new ArrayBuffer(<i32>size);
  if (ptr != 0) {
    memory.copy(changetype<usize>(buffer), ptr, <usize>size);
    heap.free(ptr);
  }
  return buffer;
}

/** Frees a host-returned block without reading it. */
export function release(ptr: usize): void {
  if (ptr != 0) heap.free(ptr);
}
