/** Envoy stats defined by the plugin (exposed by Envoy as `wasmcustom.<name>`), plus time and timer. */
import { Status, MetricType } from "../abi/enums";
import * as host from "../abi/hostcalls";
import { trafficLabel } from "./metric-label";
import { getPropertyString, ROUTE_NAME, CLUSTER_NAME } from "./properties";

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

/** Distinct counter names per VM before new label sets are counted with every label OVERFLOW_LABEL. */
export const MAX_COUNTER_NAMES = 4096;
/** Distinct values per VM of each label taken from traffic (model, consumer) before new ones are OVERFLOW_LABEL. */
export const MAX_LABEL_VALUES = 512;
export const OVERFLOW_LABEL = "overflow";

/** Equal strings; the same object (a recent value, a literal suffix) answers without a call. */
@inline
function same(a: string, b: string): bool {
  return changetype<usize>(a) == changetype<usize>(b) || a == b;
}

/** A string in the module's static data: a literal of the plugin's code ("none", "unknown"), never traffic. */
@inline
function isLiteral(text: string): bool {
  return changetype<usize>(text) < __heap_base;
}

/** The values one traffic label has shown, at most MAX_LABEL_VALUES of them. */
class LabelValues {
  // A map of the same type as the names' (the values are unused): one more Set type would cost
  // the module about a kilobyte of code.
  private values: Map<string, u32> = new Map<string, u32>();

  /** `label` when it is a literal, already shown, or there is room; OVERFLOW_LABEL when there is none. */
  admit(label: string): string {
    if (isLiteral(label) || this.values.has(label)) return label;
    if (this.values.size >= MAX_LABEL_VALUES) return OVERFLOW_LABEL;
    this.values.set(label, 0);
    return label;
  }
}

// Per VM, like the names: a client sending a new model or consumer per request fills its own
// label's values and then counts as `overflow` there, leaving other labels and names to the rest.
const models = new LabelValues();
const consumers = new LabelValues();

/**
 * The name of an AI metric in Higress's layout (ai-statistics, ai-token-ratelimit), which Higress's
 * bootstrap stats_tags turn into the labels ai_route, ai_cluster, ai_model and ai_consumer of
 * `route_upstream_model_consumer_metric_<name>`. Route and cluster come from the proxy's
 * configuration and are used as they are (their `.` and `|` stay: the tags match lazily up to the
 * next `.upstream`, `.model`); model and consumer come from traffic and arrive cut and cleaned
 * (trafficLabel), so they can hold no `.`. Each plugin's `<name>`s carry its own prefix
 * (`token_ratelimit_`, `quota_`), so none equals one of ai-statistics' (A3).
 */
export function aiMetricName(route: string, cluster: string, model: string, consumer: string, name: string): string {
  return "route." + route + ".upstream." + cluster + ".model." + model + ".consumer." + consumer + ".metric." + name;
}

/**
 * Counter ids (names from aiMetricName) for the labels seen last. Requests in a row mostly share route, upstream, model and
 * consumer, so four string comparisons replace building and hashing each name. Model and consumer
 * are made labels here, at the root, whoever calls: cut and cleaned by trafficLabel, and past
 * MAX_LABEL_VALUES distinct values of one, that one is OVERFLOW_LABEL. After MAX_COUNTER_NAMES
 * names, a new label set is counted with every label OVERFLOW_LABEL.
 */
export class LabelledCounters {
  private route: string = "";
  private cluster: string = "";
  private model: string = "";
  private consumer: string = "";
  // The labels shown in names: model and consumer, or OVERFLOW_LABEL past MAX_LABEL_VALUES.
  private modelShown: string = "";
  private consumerShown: string = "";
  // The strings given last and their labels (trafficLabel).
  private modelGiven: string = "";
  private modelLabel: string = "";
  private consumerGiven: string = "";
  private consumerLabel: string = "";
  private suffixes: Array<string> = [];
  private ids: Array<u32> = [];

  id(route: string, cluster: string, model: string, consumer: string, suffix: string): u32 {
    // The same model and consumer objects come back request after request (recent strings,
    // literals): their labels are made once, and a short clean label is the string itself, so the
    // comparisons below stay by identity.
    if (changetype<usize>(model) != changetype<usize>(this.modelGiven)) {
      this.modelGiven = model;
      this.modelLabel = trafficLabel(model);
    }
    if (changetype<usize>(consumer) != changetype<usize>(this.consumerGiven)) {
      this.consumerGiven = consumer;
      this.consumerLabel = trafficLabel(consumer);
    }
    model = this.modelLabel;
    consumer = this.consumerLabel;
    if (!same(route, this.route) || !same(cluster, this.cluster) || !same(model, this.model) || !same(consumer, this.consumer)) {
      this.route = route;
      this.cluster = cluster;
      this.model = model;
      this.consumer = consumer;
      this.modelShown = models.admit(model);
      this.consumerShown = consumers.admit(consumer);
      this.suffixes.length = 0;
      this.ids.length = 0;
    }
    for (let i = 0; i < this.suffixes.length; i++) {
      if (same(unchecked(this.suffixes[i]), suffix)) return unchecked(this.ids[i]);
    }
    let name = aiMetricName(route, cluster, this.modelShown, this.consumerShown, suffix);
    // Past the cap, new label sets share one name, so no client can grow the proxy's stats without end.
    if (!counters.has(name) && counters.size >= MAX_COUNTER_NAMES) name = aiMetricName(OVERFLOW_LABEL, OVERFLOW_LABEL, OVERFLOW_LABEL, OVERFLOW_LABEL, suffix);
    const id = counter(name);
    // A refused name (id 0) is asked again next time.
    if (id != 0) {
      this.suffixes.push(suffix);
      this.ids.push(id);
    }
    return id;
  }
}

// One per VM, like the names: every stream of the module counts through it.
const AI_COUNTERS = new LabelledCounters();

/**
 * One stream's AI metrics: route and cluster are read the first time a metric needs them, or by
 * readLabels while the stream lives (a charge's reply, counted after the stream ended, can no
 * longer read them); `-` when the proxy has none, as Higress. The consumer is the plugin's to set.
 */
export class StreamCounters {
  private labelsRead: bool = false;
  /** The route label: the route's name, or what the plugin put in its place (useRoute). */
  route: string = "-";
  private cluster: string = "-";
  consumer: string = "none";

  /** Reads the labels now and labels this stream's metrics with `route` instead of the route's name (ai-statistics' API names). */
  useRoute(route: string): void {
    this.readLabels();
    this.route = route;
  }

  /** Reads route and cluster now, once: call it while the stream lives. */
  readLabels(): void {
    if (this.labelsRead) return;
    this.labelsRead = true;
    const route = getPropertyString(ROUTE_NAME);
    if (route !== null) this.route = route;
    const cluster = getPropertyString(CLUSTER_NAME);
    if (cluster !== null) this.cluster = cluster;
  }

  /** Adds `amount` to the counter `name` of this stream's route, cluster and consumer and of `model`. */
  count(name: string, model: string, amount: i64): void {
    this.readLabels();
    incrementMetric(AI_COUNTERS.id(this.route, this.cluster, model, this.consumer, name), amount);
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
