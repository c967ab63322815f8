/**
 * What the store panels read, from the gateway's own config: each ai-quota and ai-token-ratelimit
 * config (the global one and each `_rules_` entry: both plugins read a rule as a whole config)
 * with the Redis it names, found by the plugin's name in `plugins`; and key-auth's consumers, so a
 * rate-limit counter keyed by an API key is shown as its consumer, never as the key.
 */
import type { GatewayConfig } from "../gateway-config.ts";
import { redisClusterName } from "../gateway-config.ts";
import type { RedisClientTarget } from "../redis-client.ts";
import { DEFAULT_KEY_PREFIX } from "../../plugins/ai-quota/keys.ts";
import { KEY_PREFIX, LIMIT_TYPES, WINDOW_NAMES, WINDOW_SECONDS } from "../../plugins/ai-token-ratelimit/keys.ts";

/** The plugins' names (each one's PLUGIN_NAME; tests/static/dashboard-page.test.ts holds them equal). */
export const QUOTA_PLUGIN = "ai-quota";
export const LIMITER_PLUGIN = "ai-token-ratelimit";
export const KEY_AUTH_PLUGIN = "key-auth";

export interface Store {
  /** The Redis cluster's name in the gateway config, for messages. */
  cluster: string;
  target: RedisClientTarget;
}

export interface QuotaSource extends Store {
  /** `<redis_key_prefix>`: each key under it is a consumer's remaining quota. */
  prefix: string;
}

/** One `limit_keys` entry: its key and a threshold per window (seconds). */
export interface LimitKey {
  key: string;
  limits: Map<number, number>;
}

export interface LimitSource extends Store {
  rule: string;
  /** `KEY_PREFIX<rule_name>:`, before every counter of the rule. */
  prefix: string;
  /** `global_threshold`'s threshold per window, or null for rule items. */
  global: Map<number, number> | null;
  items: Array<{ limitType: string; ruleKey: string; keys: LimitKey[] }>;
}

export interface Consumers {
  names: string[];
  byCredential: Map<string, string>;
  /** Header and query parameter names key-auth takes keys from, lower case: their values are secrets. */
  keySources: Set<string>;
}

export interface StoreSources {
  quotas: QuotaSource[];
  limits: LimitSource[];
  consumers: Consumers;
}

type Obj = Record<string, any>;

/** A plugin's configs: the global one when it has fields of its own, then each rule. */
function configsOf(config: GatewayConfig, plugin: string): Obj[] {
  return config.plugins.filter((p) => p.name === plugin).flatMap((p) => {
    const whole = p.config as Obj;
    const own = Object.keys(whole).filter((k) => k !== "_rules_" && k !== "_plugin_id_");
    const rules = Array.isArray(whole._rules_) ? (whole._rules_ as Obj[]) : [];
    return own.length > 0 ? [whole, ...rules] : rules;
  });
}

/** The Redis a config's `redis` block names, with its credentials; null when the gateway has no such cluster. */
function storeOf(config: GatewayConfig, c: Obj): Store | null {
  const cluster = redisClusterName(c.redis);
  const address = cluster === null ? undefined : config.redisClusters[cluster];
  if (!address) return null;
  const { username, password, database } = c.redis;
  return {
    cluster: cluster!,
    target: {
      ...address,
      ...(typeof username === "string" && username !== "" ? { username } : {}),
      ...(typeof password === "string" && password !== "" ? { password } : {}),
      ...(Number.isInteger(database) && database > 0 ? { database } : {}),
    },
  };
}

function thresholds(o: Obj): Map<number, number> {
  return new Map(WINDOW_NAMES.flatMap((name, i) => (Number.isInteger(o?.[name]) ? [[WINDOW_SECONDS[i], o[name] as number] as [number, number]] : [])));
}

/** An item's limit type and rule key as ai-token-ratelimit's config.ts readItem picks them: the last type present counts. */
function itemOf(item: Obj): LimitSource["items"][number] | null {
  let limitType = "";
  let ruleKey = "";
  for (const type of LIMIT_TYPES) {
    const value = item[type];
    if (typeof value !== "string") continue;
    const consumer = type.endsWith("consumer");
    if (!consumer && value === "") continue;
    limitType = type;
    ruleKey = consumer ? "x-mse-consumer" : value;
  }
  if (limitType === "" || !Array.isArray(item.limit_keys)) return null;
  return { limitType, ruleKey, keys: (item.limit_keys as Obj[]).map((k) => ({ key: String(k.key), limits: thresholds(k) })) };
}

function consumersOf(config: GatewayConfig): Consumers {
  const out: Consumers = { names: [], byCredential: new Map(), keySources: new Set() };
  for (const c of configsOf(config, KEY_AUTH_PLUGIN)) {
    for (const k of Array.isArray(c.keys) ? c.keys : []) out.keySources.add(String(k).toLowerCase());
    for (const consumer of Array.isArray(c.consumers) ? (c.consumers as Obj[]) : []) {
      if (typeof consumer.name !== "string") continue;
      if (!out.names.includes(consumer.name)) out.names.push(consumer.name);
      for (const k of Array.isArray(consumer.keys) ? consumer.keys : []) out.keySources.add(String(k).toLowerCase());
      const credentials = [consumer.credential, ...(Array.isArray(consumer.credentials) ? consumer.credentials : [])];
      for (const credential of credentials) if (typeof credential === "string") out.byCredential.set(credential, consumer.name);
    }
  }
  return out;
}

export function storeSources(config: GatewayConfig): StoreSources {
  const quotas: QuotaSource[] = [];
  for (const c of configsOf(config, QUOTA_PLUGIN)) {
    const store = storeOf(config, c);
    const prefix = typeof c.redis_key_prefix === "string" && c.redis_key_prefix !== "" ? c.redis_key_prefix : DEFAULT_KEY_PREFIX;
    // Rules on one store and prefix share their keys: read once.
    if (store && !quotas.some((q) => q.cluster === store.cluster && q.prefix === prefix)) quotas.push({ ...store, prefix });
  }
  const limits: LimitSource[] = [];
  for (const c of configsOf(config, LIMITER_PLUGIN)) {
    const store = storeOf(config, c);
    if (!store || typeof c.rule_name !== "string") continue;
    const prefix = `${KEY_PREFIX}${c.rule_name}:`;
    if (limits.some((l) => l.cluster === store.cluster && l.prefix === prefix)) continue;
    const items = (Array.isArray(c.rule_items) ? c.rule_items : c.rule_items ? [c.rule_items] : []).map(itemOf).filter((i): i is LimitSource["items"][number] => i !== null);
    limits.push({ ...store, rule: c.rule_name, prefix, global: c.global_threshold ? thresholds(c.global_threshold) : null, items });
  }
  return { quotas, limits, consumers: consumersOf(config) };
}
