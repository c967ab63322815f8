/**
 * Wasm time per request, measured the way that holds on a noisy machine: every case runs in the
 * same process, in interleaved batches, so a slow moment hits all of them alike.
 *
 * "Guest" time is the time inside calls into the modules minus the time this TypeScript host
 * spends implementing the host calls they make; "with host calls" keeps it. Both include V8's
 * call overhead, whose floor the no-op baseline shows.
 *
 * Every outermost call and every host call is timed by a pair of clock reads, and about one
 * clock read's cost of each pair falls outside the host's share: with about 35 timed calls in
 * an AI plugin's chat that is nearly 2 µs that neither the plugin nor Envoy spends. `clockCost()` measures it
 * once and the figures take it out per timed call; `raw` keeps it.
 */
import type { Host } from "../host/direct.ts";

export interface Case {
  name: string;
  host: Host;
  /** One request through to the end of its response. */
  run(): void | Promise<void>;
}

export interface Timing {
  median: number;
  p99: number;
  /** Median with the clock's own cost left in. */
  raw: number;
  /** Median with the host's own host-call work included. */
  withHost: number;
  /** Timed calls (callbacks and host calls) per request. */
  timings: number;
}

/** The q-quantile of ascending samples. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Microseconds one `performance.now()` costs: the median of 25 runs of 200 000 reads. */
export function clockCost(): number {
  const runs: number[] = [];
  let sink = 0;
  for (let r = 0; r < 25; r++) {
    const start = performance.now();
    for (let i = 0; i < 200_000; i++) sink += performance.now();
    runs.push(((performance.now() - start) * 1000) / 200_000);
  }
  if (sink === 0) throw new Error("clock did not move");
  runs.sort((a, b) => a - b);
  return quantile(runs, 0.5);
}

interface Counters {
  busy: number;
  host: number;
  timings: number;
}

function counters(host: Host): Counters {
  const out = { busy: 0, host: 0, timings: 0 };
  for (const vm of host.chain.vms) {
    out.busy += vm.busyMs;
    out.host += vm.hostMs;
    out.timings += vm.hostCallCount + vm.outerCallCount;
  }
  return out;
}

/** Runs `requests` requests of every case, `batch` at a time in turn, after `warm` each; µs per request. */
export async function measure(cases: Case[], requests: number, batch: number, warm: number, clockUs: number): Promise<Map<string, Timing>> {
  for (const c of cases) for (let i = 0; i < warm; i++) await c.run();
  const guest = cases.map(() => [] as number[]);
  const raw = cases.map(() => [] as number[]);
  const withHost = cases.map(() => [] as number[]);
  const timings = cases.map(() => 0);
  const forward = cases.map((_, k) => k);
  const backward = [...forward].reverse();
  for (let done = 0, round = 0; done < requests; done += batch, round++) {
    // A batch runs warmer right after one of the same plugin: alternating the order gives every
    // case each position equally often, so no case gains from where it stands in the list.
    for (const k of round % 2 === 0 ? forward : backward) {
      const c = cases[k];
      for (let i = 0; i < batch; i++) {
        const before = counters(c.host);
        await c.run();
        const after = counters(c.host);
        const us = (after.busy - before.busy - (after.host - before.host)) * 1000;
        const timed = after.timings - before.timings;
        raw[k].push(us);
        guest[k].push(us - timed * clockUs);
        withHost[k].push((after.busy - before.busy) * 1000);
        timings[k] += timed;
      }
    }
  }
  const out = new Map<string, Timing>();
  const sorted = (xs: number[]) => xs.sort((a, b) => a - b);
  cases.forEach((c, k) => {
    sorted(guest[k]);
    out.set(c.name, {
      median: quantile(guest[k], 0.5), p99: quantile(guest[k], 0.99), raw: quantile(sorted(raw[k]), 0.5),
      withHost: quantile(sorted(withHost[k]), 0.5), timings: timings[k] / guest[k].length,
    });
  });
  return out;
}

/** Guest µs per request by callback (proxy_on_*), for the single-plugin host `host`: where a plugin's time goes. */
export async function perCallback(host: Host, run: () => void | Promise<void>, requests: number, clockUs: number): Promise<Array<[string, number]>> {
  const vm = host.chain.vms[0];
  const spent = new Map<string, number>();
  vm.onCallDone = (name, guestMs, timed) => spent.set(name, (spent.get(name) ?? 0) + guestMs * 1000 - timed * clockUs);
  try {
    for (let i = 0; i < requests; i++) await run();
  } finally {
    vm.onCallDone = null;
  }
  return [...spent].map(([name, us]) => [name.replace(/^proxy_on_/, ""), us / requests] as [string, number]).sort((a, b) => b[1] - a[1]);
}
