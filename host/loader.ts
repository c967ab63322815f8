/** Envoy's load-time checks on a module, with Envoy's messages (proxy-wasm-abi.md §6.1). */
import { readModule, signature, type ModuleInfo } from "./wasm-binary.ts";
import { ABI_MARKERS, EXPORTS, registeredImports } from "./abi-table.ts";
import { PluginLoadError, type HostMode } from "./stream-api.ts";

export type AbiVersion = "0.2.100" | "0.2.1";

export interface CheckedModule {
  info: ModuleInfo;
  abi: AbiVersion;
  /** The allocator Envoy uses: malloc when exported, else proxy_on_memory_allocate. */
  allocator: "malloc" | "proxy_on_memory_allocate";
}

/** Throws PluginLoadError exactly where Envoy would refuse the module. */
export function checkModule(bytes: Uint8Array, mode: HostMode): CheckedModule {
  let info: ModuleInfo;
  try {
    info = readModule(bytes);
  } catch (e) {
    throw new PluginLoadError(`Failed to load Wasm code: ${(e as Error).message}`);
  }
  const marker = info.exports.find((e) => e.kind === "func" && ABI_MARKERS.includes(e.name));
  // Higress knows 0.2.100; plain Envoy skips that name and takes the next known one.
  const known = info.exports.filter((e) => e.kind === "func" && ABI_MARKERS.includes(e.name))
    .map((e) => e.name)
    .filter((name) => mode === "higress" || name !== "proxy_abi_version_0_2_100");
  const chosen = known[0];
  if (!marker || !chosen) throw new PluginLoadError("Missing or unknown Proxy-Wasm ABI version");
  if (chosen !== "proxy_abi_version_0_2_100" && chosen !== "proxy_abi_version_0_2_1") {
    throw new PluginLoadError(`Unsupported Proxy-Wasm ABI version: ${chosen}`);
  }
  const abi: AbiVersion = chosen === "proxy_abi_version_0_2_100" ? "0.2.100" : "0.2.1";

  const registered = registeredImports(mode);
  for (const imp of info.imports) {
    if (imp.kind !== "func") continue;
    const key = `${imp.module}.${imp.name}`;
    const expected = registered.get(key);
    if (!expected) throw new PluginLoadError(`Failed to load Wasm module due to a missing import: ${key}`);
    if (expected !== signature(imp.type)) {
      throw new PluginLoadError(`Failed to load Wasm module due to an import type mismatch: ${key}`);
    }
  }
  for (const exp of info.exports) {
    const expected = EXPORTS[exp.name];
    if (exp.kind === "func" && expected && expected !== signature(exp.type)) {
      throw new PluginLoadError(`Bad function signature for: ${exp.name}`);
    }
  }
  const names = new Set(info.exports.map((e) => e.name));
  const allocator = names.has("malloc") ? "malloc" : names.has("proxy_on_memory_allocate") ? "proxy_on_memory_allocate" : null;
  if (!allocator) throw new PluginLoadError("Wasm module is missing malloc function");
  return { info, abi, allocator };
}
