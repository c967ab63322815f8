/** Envoy properties (route_name, cluster_name, source.address, …) addressed by path segments. */
import { Status } from "../abi/enums";
import * as host from "../abi/hostcalls";

/** Segments joined by NUL, no trailing NUL (a dotted name is not split by Envoy). */
function encodePath(path: Array<string>): ArrayBuffer {
  let joined = "";
  for (let i = 0; i < path.length; i++) {
    if (i > 0) joined += "\0";
    joined += unchecked(path[i]);
  }
  return String.UTF8.encode(joined);
}

export function getProperty(path: Array<string>): ArrayBuffer | null {
  return host.getProperty(encodePath(path));
}

export function getPropertyString(path: Array<string>): string | null {
  const value = host.getProperty(encodePath(path));
  return value === null ? null : String.UTF8.decode(value);
}

/** Stored as filter state `wasm.<path>`; NotFound on a root context. */
export function setProperty(path: Array<string>, value: ArrayBuffer): Status {
  return host.setProperty(encodePath(path), value);
}
