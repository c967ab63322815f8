/** One Redis client per plugin config: the global config and each rule may name their own Redis. */
import { RedisConfig } from "./config";
import { RedisClient } from "./client";

export class ClientsByConfig<T> {
  // Configs are few (the global one and one per rule): a scan by identity beats hashing a pointer.
  private configs: Array<T> = [];
  private clients: Array<RedisClient> = [];

  /** Creates and initialises a client for every config, from the matching `redis` block. */
  constructor(configs: Array<T>, redis: Array<RedisConfig>) {
    for (let i = 0; i < configs.length; i++) {
      const client = new RedisClient(unchecked(redis[i]));
      client.init();
      this.configs.push(unchecked(configs[i]));
      this.clients.push(client);
    }
  }

  /** The config's client; null for a config this set was not built from. */
  get(config: T): RedisClient | null {
    for (let i = 0; i < this.configs.length; i++) {
      if (changetype<usize>(unchecked(this.configs[i])) == changetype<usize>(config)) return unchecked(this.clients[i]);
    }
    return null;
  }
}
