/** createFilterChain: loads each plugin into a VM (shared by plugins with one vmId and one code) and runs streams through them. */
import { readFileSync } from "node:fs";
import { WasmVm } from "./vm.ts";
import { FilterManager } from "./filter-manager.ts";
import { MetricRegistry } from "./metrics.ts";
import {
  PluginLoadError,
  type ChainOptions,
  type DownstreamHandler,
  type FilterChainStream,
  type LoadedChain,
  type LogEntry,
  type PluginSpec,
  type StreamInfo,
  type UpstreamHandler,
} from "./stream-api.ts";

/** Envoy's default per-stream buffer limit. */
const BUFFER_LIMIT = 1 << 20;

export interface WasmChain extends LoadedChain {
  readonly vms: WasmVm[];
}

/** Rejects with PluginLoadError when a module is refused or a configuration is rejected. */
export async function createFilterChain(plugins: PluginSpec[], options: ChainOptions): Promise<WasmChain> {
  const logs: LogEntry[] = [];
  const metrics = new MetricRegistry();
  const vms: WasmVm[] = [];
  const filters: Array<{ vm: WasmVm; rootId: number }> = [];
  const shared = new Map<string, { vm: WasmVm; bytes: Uint8Array }>();
  for (const plugin of plugins) {
    const bytes = typeof plugin.wasm === "string" ? readFileSync(plugin.wasm) : plugin.wasm;
    const config = Buffer.from(typeof plugin.config === "string" ? plugin.config : JSON.stringify(plugin.config ?? {}), "utf8");
    const same = plugin.vmId === undefined ? undefined : shared.get(plugin.vmId);
    let vm: WasmVm;
    let rootId: number;
    if (same !== undefined && Buffer.compare(Buffer.from(same.bytes), Buffer.from(bytes)) === 0) {
      vm = same.vm;
      rootId = vm.addRoot(config);
    } else {
      vm = await WasmVm.load(bytes, {
        name: plugin.name,
        mode: options.mode,
        config,
        logLevel: options.logLevel ?? 1,
        logs,
        metrics,
        redis: options.redis,
        env: plugin.env,
      });
      rootId = vm.rootId;
      vms.push(vm);
      if (plugin.vmId !== undefined) shared.set(plugin.vmId, { vm, bytes });
    }
    if (!(vm.rootConfigured.get(rootId) ?? false)) {
      const reasons = logs.filter((l) => l.plugin === vm.name && l.level >= 3).map((l) => l.message);
      const error = new PluginLoadError(`plugin ${plugin.name} rejected its configuration: ${reasons.join(" | ")}`);
      (error as PluginLoadError & { logs: LogEntry[] }).logs = logs;
      throw error;
    }
    filters.push({ vm, rootId });
  }
  return {
    vms,
    newStream(info: StreamInfo, upstream: UpstreamHandler, downstream: DownstreamHandler): FilterChainStream {
      return new FilterManager(filters, info, upstream, downstream, {
        legacyBodyBuffering: options.legacyBodyBuffering ?? false,
        bufferLimit: BUFFER_LIMIT,
      });
    },
    logs: () => logs,
    metrics: () => metrics.samples(),
    failed: () => vms.some((vm) => vm.failed),
    close: async () => {},
  };
}
