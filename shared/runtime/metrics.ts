/** Envoy stats defined by the plugin (exposed by Envoy as `wasmcustom.<name>`), plus time and timer. */
import { Status, MetricType } from "../abi/enums";
import * as host from "../abi/hostcalls";

// Every name stays cached: Envoy hands out a new id (and keeps it) on every define, so a name
// defined twice would cost the proxy more than this map costs us.
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

/** Distinct counter names per VM before new label sets are counted under OVERFLOW_LABEL. */
export const MAX_COUNTER_NAMES = 4096;
export const OVERFLOW_LABEL = "overflow";

/** Equal strings; the same object (a recent value, a literal suffix) answers without a call. */
@inline
function same(a: string, b: string): bool {
  return changetype<usize>(a) == changetype<usize>(b) || a == b;
}

/** Builds a counter name from four labels and the counter's own suffix. */
export type CounterName = (a: string, b: string, c: string, d: string, suffix: string) => string;

/**
 * Counter ids for the labels seen last. Requests in a row mostly share route, upstream, model and
 * consumer, so four string comparisons replace building and hashing each name. After
 * MAX_COUNTER_NAMES names, a new label set is counted with every label OVERFLOW_LABEL.
 */
export class LabelledCounters {
  private a: string = "";
  private b: string = "";
  private c: string = "";
  private d: string = "";
  private suffixes: Array<string> = [];
  private ids: Array<u32> = [];

  constructor(private format: CounterName) {}

  id(a: string, b: string, c: string, d: string, suffix: string): u32 {
    if (!same(a, this.a) || !same(b, this.b) || !same(c, this.c) || !same(d, this.d)) {
      this.a = a;
      this.b = b;
      this.c = c;
      this.d = d;
      this.suffixes.length = 0;
      this.ids.length = 0;
    }
    for (let i = 0; i < this.suffixes.length; i++) {
      if (same(unchecked(this.suffixes[i]), suffix)) return unchecked(this.ids[i]);
    }
    const format = this.format;
    let name = format(a, b, c, d, suffix);
    // Labels come from requests (consumer, model): past the cap, new label sets share one, so no
    // client can grow the proxy's stats without end.
    if (!counters.has(name) && counters.size >= MAX_COUNTER_NAMES) name = format(OVERFLOW_LABEL, OVERFLOW_LABEL, OVERFLOW_LABEL, OVERFLOW_LABEL, suffix);
    const id = counter(name);
    // A refused name (id 0) is asked again next time.
    if (id != 0) {
      this.suffixes.push(suffix);
      this.ids.push(id);
    }
    return id;
  }
}

/** Wall-clock nanoseconds since the epoch. */
export function nowNanos(): u64 {
  return host.getCurrentTimeNanoseconds();
}

/** Calls the root context's onTick every `ms` milliseconds; 0 stops it. */
export function setTickPeriod(ms: u32): Status {
  return host.setTickPeriodMilliseconds(ms);
}
