/** Envoy properties (route_name, cluster_name, source.address, …) addressed by path segments. */
import { Status } from "../abi/enums";
import * as host from "../abi/hostcalls";

/** A property path, encoded once: segments joined by NUL, no trailing NUL (a dotted name is not split by Envoy). */
export class PropertyPath {
  readonly bytes: ArrayBuffer;

  constructor(segments: Array<string>) {
    let joined = "";
    for (let i = 0; i < segments.length; i++) {
      if (i > 0) joined += "\0";
      joined += unchecked(segments[i]);
    }
    this.bytes = String.UTF8.encode(joined);
  }
}

export function getProperty(path: PropertyPath): ArrayBuffer | null {
  return host.getProperty(path.bytes);
}

/** The value read in place: the pointer (0 when unknown or empty), its size in `borrowedSize()`; hand it back with `releaseBorrowed`. */
export function borrowProperty(path: PropertyPath): usize {
  return host.borrowProperty(path.bytes);
}

/** The size of the bytes last borrowed. */
export function borrowedSize(): u32 {
  return host.borrowedSize;
}

/** Frees bytes borrowed from the host. */
export function releaseBorrowed(ptr: usize): void {
  host.release(ptr);
}

export function getPropertyString(path: PropertyPath): string | null {
  return host.getPropertyString(path.bytes);
}

/** Stored as filter state `wasm.<path>`; NotFound on a root context. */
export function setProperty(path: PropertyPath, value: ArrayBuffer): Status {
  return host.setProperty(path.bytes, value);
}

/** The same, from `size` bytes at `ptr`. */
export function setPropertyAt(path: PropertyPath, ptr: usize, size: usize): Status {
  return host.setPropertyAt(path.bytes, ptr, size);
}

/** The paths the plugins read. */
export const ROUTE_NAME = new PropertyPath(["route_name"]);
export const CLUSTER_NAME = new PropertyPath(["cluster_name"]);
export const SOURCE_ADDRESS = new PropertyPath(["source", "address"]);
