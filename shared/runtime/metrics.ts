/** Envoy stats defined by the plugin (exposed by Envoy as `wasmcustom.<name>`), plus time and timer. */
import { Status, MetricType } from "../abi/enums";
import * as host from "../abi/hostcalls";

const counters = new Map<string, u32>();

/** The metric id, or 0 when the host refused. */
export function defineMetric(metricType: MetricType, name: string): u32 {
  return host.defineMetric(metricType, name);
}
export function incrementMetric(id: u32, delta: i64): Status {
  return host.incrementMetric(id, delta);
}
export function recordMetric(id: u32, value: i64): Status {
  return host.recordMetric(id, <u64>value);
}
export function getMetric(id: u32): u64 {
  return host.getMetric(id);
}

/** A counter's id, defined on first use and cached by name (per-route/consumer names are dynamic). */
export function counter(name: string): u32 {
  if (counters.has(name)) return counters.get(name);
  const id = host.defineMetric(MetricType.Counter, name);
  if (id != 0) counters.set(name, id);
  return id;
}

/** Wall-clock nanoseconds since the epoch. */
export function nowNanos(): u64 {
  return host.getCurrentTimeNanoseconds();
}

/** Calls the root context's onTick every `ms` milliseconds; 0 stops it. */
export function setTickPeriod(ms: u32): Status {
  return host.setTickPeriodMilliseconds(ms);
}
