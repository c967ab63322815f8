/** Stats defined by plugins, shared by every VM of a chain, named as Envoy exposes them. */
import type { MetricSample } from "./stream-api.ts";

const TYPES = ["counter", "gauge", "histogram"] as const;

export class MetricRegistry {
  private values = new Map<string, { type: number; value: number }>();

  define(name: string, type: number): void {
    if (!this.values.has(name)) this.values.set(name, { type, value: 0 });
  }
  add(name: string, delta: number): void {
    const m = this.values.get(name);
    if (m) m.value += delta;
  }
  set(name: string, value: number): void {
    const m = this.values.get(name);
    if (m) m.value = value;
  }
  get(name: string): number {
    return this.values.get(name)?.value ?? 0;
  }
  /** Envoy prefixes plugin-defined stats with `wasmcustom.`. */
  samples(): MetricSample[] {
    return [...this.values].map(([name, m]) => ({ name: `wasmcustom.${name}`, type: TYPES[m.type], value: m.value }));
  }
}
