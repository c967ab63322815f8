/** The root context both AI plugins share: a rule set from configure, and a Redis client per config. */
import { RootContext } from "../index";
import { RuleSet, ParsedConfig, selectConfig, acceptConfig } from "../rules/index";
import { RedisConfig } from "./config";
import { RedisClient } from "./client";
import { ClientsByConfig } from "./clients";

export abstract class RedisRuleRoot<T> extends RootContext {
  rules: RuleSet<T> | null = null;
  clients: ClientsByConfig<T> | null = null;
  /** Set by select(): the request's config and its client. */
  selected: T | null = null;
  selectedClient: RedisClient | null = null;

  abstract parse(text: string): ParsedConfig<T>;
  abstract redisOf(config: T): RedisConfig;

  onConfigure(configuration: ArrayBuffer | null): bool {
    const rules = acceptConfig(this.parse(configuration === null ? "" : String.UTF8.decode(configuration)));
    if (rules === null) return false;
    this.rules = rules;
    const all = rules.all();
    const redis = new Array<RedisConfig>();
    for (let i = 0; i < all.length; i++) redis.push(this.redisOf(all[i]));
    this.clients = new ClientsByConfig<T>(all, redis);
    return true;
  }

  /** For onRequestHeaders: picks the config and client; false when the plugin has nothing to do. */
  select(): bool {
    this.selected = null;
    this.selectedClient = null;
    const rules = this.rules;
    if (rules === null) return false;
    const config = selectConfig(rules);
    if (config === null) return false;
    const client = this.clients!.get(config);
    if (client === null) return false;
    this.selected = config;
    this.selectedClient = client;
    return true;
  }
}
