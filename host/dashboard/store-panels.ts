/**
 * The store panels' data, read from Redis when the page asks (one connection per store, opened on
 * the first ask): each consumer's remaining ai-quota (`<redis_key_prefix><consumer>`, an absent key
 * is 0, as ai-quota reads it) and each ai-token-ratelimit counter with its window's TTL. A store
 * that cannot answer is said in the panel's note; the other panels are shown all the same.
 */
import { RespClient } from "../redis-client.ts";
import type { RespValue } from "../resp.ts";
import { FIELDS, QUOTA_COLUMNS, WINDOW_COLUMNS } from "./panels.ts";
import { row, type PanelData, type Row } from "./metric-panels.ts";
import type { Consumers, LimitSource, QuotaSource, Store, StoreSources } from "./store-sources.ts";

/** Keys read per store and panel at most: the page is for a look, not an export. */
export const MAX_KEYS = 500;
/** A store's whole read; past it the panel says so. */
export const STORE_TIMEOUT_MS = 2000;
/** The Redis key of a key-auth consumer who has none (no quota: ai-quota answers 403). */
export const ABSENT_KEY = "(absent)";
/** Shown for a rate-limit counter keyed by a value key-auth takes as an API key that no consumer has (never the value). */
export const UNKNOWN_KEY = "(unknown API key)";

/** A SCAN pattern matching exactly the keys that start with `prefix`. */
function globPrefix(prefix: string): string {
  return prefix.replace(/[*?[\]\\]/g, "\\$&") + "*";
}

function check(reply: RespValue): RespValue {
  if (reply instanceof Error) throw reply;
  return reply;
}

export class StorePanels {
  private clients = new Map<string, RespClient>();

  constructor(private readonly sources: StoreSources) {}

  private client(store: Store): RespClient {
    const id = JSON.stringify(store.target);
    let client = this.clients.get(id);
    if (!client) this.clients.set(id, (client = new RespClient(store.target)));
    return client;
  }

  /** Up to MAX_KEYS keys under `prefix`, sorted. */
  private async scan(client: RespClient, prefix: string): Promise<{ keys: string[]; cut: boolean }> {
    const keys = new Set<string>();
    let cursor = "0";
    do {
      const [next, batch] = check(await client.command("SCAN", cursor, "MATCH", globPrefix(prefix), "COUNT", 1000)) as [string, string[]];
      for (const key of batch) keys.add(key);
      cursor = next;
    } while (cursor !== "0" && keys.size < MAX_KEYS);
    return { keys: [...keys].sort().slice(0, MAX_KEYS), cut: keys.size > MAX_KEYS || cursor !== "0" };
  }

  /** Runs `read` on the store's client within STORE_TIMEOUT_MS; a failure or a timeout is the note. */
  private async within(store: Store, read: (client: RespClient) => Promise<Row[]>): Promise<{ rows: Row[]; note?: string }> {
    const client = this.client(store);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${STORE_TIMEOUT_MS} ms`)), STORE_TIMEOUT_MS);
    });
    try {
      return { rows: await Promise.race([read(client), timeout]) };
    } catch (e) {
      // A late answer must not be taken for the next command's: this connection is done.
      client.close();
      return { rows: [], note: `Redis ${store.cluster} (${store.target.host}:${store.target.port}): ${(e as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  private async quotaRows(source: QuotaSource, consumers: Consumers, client: RespClient): Promise<Row[]> {
    const { keys, cut } = await this.scan(client, source.prefix);
    const values = keys.length ? (check(await client.command("MGET", ...keys)) as Array<string | null>) : [];
    const rows = keys.map((key, i) => row(key.slice(source.prefix.length), { [QUOTA_COLUMNS.remaining]: values[i] === null ? 0 : Number(values[i]), [QUOTA_COLUMNS.key]: key }));
    // key-auth's consumers without a key have no quota: ai-quota answers them 403.
    if (!cut) for (const name of consumers.names) if (!keys.includes(source.prefix + name)) rows.push(row(name, { [QUOTA_COLUMNS.remaining]: 0, [QUOTA_COLUMNS.key]: ABSENT_KEY }));
    return rows.sort((a, b) => (a[FIELDS.key] < b[FIELDS.key] ? -1 : 1));
  }

  private async windowRows(source: LimitSource, consumers: Consumers, client: RespClient): Promise<Row[]> {
    const { keys } = await this.scan(client, source.prefix);
    const replies = await Promise.all(keys.flatMap((key) => [client.command("GET", key), client.command("TTL", key)]));
    const rows: Row[] = [];
    keys.forEach((key, i) => {
      const ttl = check(replies[2 * i + 1]) as number;
      // -2: expired between SCAN and TTL.
      if (ttl === -2) return;
      const counter = parseCounter(source, key.slice(source.prefix.length));
      if (counter === null) return;
      const used = Number(check(replies[2 * i]));
      const limit = limitOf(source, counter);
      rows.push(row(callerOf(counter, consumers), {
        [WINDOW_COLUMNS.rule]: source.rule,
        [WINDOW_COLUMNS.limitedBy]: counter.item === null ? counter.limitType : `${counter.limitType} ${counter.ruleKey}`,
        [WINDOW_COLUMNS.window]: counter.window,
        [WINDOW_COLUMNS.used]: used,
        [WINDOW_COLUMNS.limit]: limit,
        [WINDOW_COLUMNS.remaining]: limit === null ? null : Math.max(0, limit - used),
        [WINDOW_COLUMNS.reset]: ttl < 0 ? null : ttl,
      }));
    });
    return rows;
  }

  /** The two store panels' data, by panel id. */
  async panels(quotaPanel: string, windowsPanel: string): Promise<Record<string, PanelData>> {
    const { quotas, limits, consumers } = this.sources;
    const collect = async <S extends Store>(sources: S[], read: (s: S, c: RespClient) => Promise<Row[]>, none: string): Promise<PanelData> => {
      const parts = await Promise.all(sources.map((s) => this.within(s, (c) => read(s, c))));
      const notes = parts.flatMap((p) => (p.note ? [p.note] : []));
      if (sources.length === 0) notes.push(none);
      return { [FIELDS.rows]: parts.flatMap((p) => p.rows), ...(notes.length ? { [FIELDS.note]: notes.join("; ") } : {}) };
    };
    const [quota, windows] = await Promise.all([
      collect(quotas, (s, c) => this.quotaRows(s, consumers, c), "no ai-quota plugin with a Redis cluster of this gateway"),
      collect(limits, (s, c) => this.windowRows(s, consumers, c), "no ai-token-ratelimit plugin with a Redis cluster of this gateway"),
    ]);
    return { [quotaPanel]: quota, [windowsPanel]: windows };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
  }
}

interface Counter {
  limitType: string;
  window: number;
  ruleKey: string;
  value: string;
  /** The rule item the key came from; null for global_threshold. */
  item: LimitSource["items"][number] | null;
}

/** `global_threshold:<window>` or `<limit_type>:<window>:<rule_key>:<value>` (after `KEY_PREFIX<rule_name>:`); null for another key. */
function parseCounter(source: LimitSource, rest: string): Counter | null {
  const [limitType, windowText] = rest.split(":", 2);
  const window = Number(windowText);
  if (!Number.isInteger(window)) return null;
  if (limitType === "global_threshold") return { limitType, window, ruleKey: "", value: "", item: null };
  const tail = rest.slice(limitType.length + windowText.length + 2);
  const item = source.items.find((i) => i.limitType === limitType && tail.startsWith(`${i.ruleKey}:`));
  if (item) return { limitType, window, ruleKey: item.ruleKey, value: tail.slice(item.ruleKey.length + 1), item };
  // A key of a rule item no longer configured.
  const colon = tail.indexOf(":");
  return colon < 0 ? null : { limitType, window, ruleKey: tail.slice(0, colon), value: tail.slice(colon + 1), item: null };
}

/** Whose counter it is: the consumer, the consumer an API key belongs to (never the key), or the limited value. */
function callerOf(counter: Counter, consumers: Consumers): string {
  if (counter.limitType === "global_threshold") return "(everyone)";
  if (counter.limitType.endsWith("consumer")) return counter.value;
  const keyed = /header|param/.test(counter.limitType) && consumers.keySources.has(counter.ruleKey.toLowerCase());
  return keyed ? consumers.byCredential.get(counter.value) ?? UNKNOWN_KEY : counter.value;
}

/**
 * The counter's threshold: global_threshold's, or that of the first `limit_keys` entry that
 * matches its value (`*`, or the value itself for the exact types); null when a `regexp:` or CIDR
 * entry comes first (deciding those is the plugin's job) or the config no longer has it.
 */
function limitOf(source: LimitSource, counter: Counter): number | null {
  if (counter.limitType === "global_threshold") return source.global?.get(counter.window) ?? null;
  if (counter.item === null) return null;
  const exact = !counter.limitType.startsWith("limit_by_per_");
  for (const key of counter.item.keys) {
    if (key.key === "*" || (exact && key.key === counter.value)) return key.limits.get(counter.window) ?? null;
    if (!exact) return null;
  }
  return null;
}
