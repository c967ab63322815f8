/** One Redis client per plugin config: the global config and each rule may name their own Redis. */
import { RedisConfig } from "./config";
import { RedisClient } from "./client";

export class ClientsByConfig<T> {
  private clients: Map<T, RedisClient> = new Map();

  /** Creates and initialises a client for every config, from the matching `redis` block. */
  constructor(configs: Array<T>, redis: Array<RedisConfig>) {
    for (let i = 0; i < configs.length; i++) {
      const config = unchecked(configs[i]);
      const client = new RedisClient(unchecked(redis[i]));
      client.init();
      this.clients.set(config, client);
    }
  }

  /** The config's client; null for a config this set was not built from. */
  get(config: T): RedisClient | null {
    return this.clients.has(config) ? this.clients.get(config) : null;
  }
}
