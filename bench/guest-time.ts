/**
 * Wasm time per request, measured the way that holds on a noisy machine: every case runs in the
 * same process, in interleaved batches, so a slow moment hits all of them alike.
 *
 * "Guest" time is the time inside calls into the modules minus the time this TypeScript host
 * spends implementing the host calls they make; "with host calls" keeps it. Both include V8's
 * call overhead, whose floor the no-op baseline shows.
 */
import type { Host } from "../tests/host/direct.ts";

export interface Case {
  name: string;
  host: Host;
  /** One request through to the end of its response. */
  run(): void | Promise<void>;
}

export interface Timing {
  median: number;
  p99: number;
  /** Median with the host's own host-call work included. */
  withHost: number;
}

function guestMs(host: Host): [number, number] {
  let busy = 0;
  let hostMs = 0;
  for (const vm of host.chain.vms) {
    busy += vm.busyMs;
    hostMs += vm.hostMs;
  }
  return [busy, hostMs];
}

/** The q-quantile of ascending samples. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Runs `requests` requests of every case, `batch` at a time in turn, after `warm` each; µs per request. */
export async function measure(cases: Case[], requests: number, batch: number, warm: number): Promise<Map<string, Timing>> {
  for (const c of cases) for (let i = 0; i < warm; i++) await c.run();
  const guest = cases.map(() => [] as number[]);
  const withHost = cases.map(() => [] as number[]);
  for (let done = 0; done < requests; done += batch) {
    for (let k = 0; k < cases.length; k++) {
      const c = cases[k];
      for (let i = 0; i < batch; i++) {
        const [busy0, host0] = guestMs(c.host);
        await c.run();
        const [busy1, host1] = guestMs(c.host);
        guest[k].push((busy1 - busy0 - (host1 - host0)) * 1000);
        withHost[k].push((busy1 - busy0) * 1000);
      }
    }
  }
  const out = new Map<string, Timing>();
  cases.forEach((c, k) => {
    guest[k].sort((a, b) => a - b);
    withHost[k].sort((a, b) => a - b);
    out.set(c.name, { median: quantile(guest[k], 0.5), p99: quantile(guest[k], 0.99), withHost: quantile(withHost[k], 0.5) });
  });
  return out;
}

/** Guest µs per request by callback (proxy_on_*), for the single-plugin host `host`: where a plugin's time goes. */
export async function perCallback(host: Host, run: () => void | Promise<void>, requests: number): Promise<Array<[string, number]>> {
  const vm = host.chain.vms[0];
  const spent = new Map<string, number>();
  vm.onCallDone = (name, guestMs) => spent.set(name, (spent.get(name) ?? 0) + guestMs);
  try {
    for (let i = 0; i < requests; i++) await run();
  } finally {
    vm.onCallDone = null;
  }
  return [...spent].map(([name, ms]) => [name.replace(/^proxy_on_/, ""), (ms * 1000) / requests] as [string, number]).sort((a, b) => b[1] - a[1]);
}
