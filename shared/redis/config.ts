/** The Higress `redis` config block (higress-behavior.md §1.5) and the Envoy cluster it names. */
import { ConfigObject, JsonKind } from "../json/index";

export const MISSING_REDIS = "missing redis in config";
export const EMPTY_SERVICE_NAME = "redis service name must not be empty";
const DEFAULT_TIMEOUT_MS: i64 = 1000;

export class RedisConfig {
  serviceName: string = "";
  servicePort: i64 = 0;
  username: string = "";
  password: string = "";
  timeoutMs: i64 = DEFAULT_TIMEOUT_MS;
  database: i64 = 0;

  /** `outbound|<port>||<service_name>`, as Higress names the cluster; set when parsed. */
  cluster: string = "";
  /** The cluster's UTF-8 bytes, sent with every call. */
  clusterBytes: ArrayBuffer = new ArrayBuffer(0);
  /** The name given to proxy_redis_init: the cluster, plus `?db=N` when database ≠ 0 (G6). */
  initName: string = "";

  /** Derives the names from the fields, once. */
  name(): void {
    this.cluster = "outbound|" + this.servicePort.toString() + "||" + this.serviceName;
    this.clusterBytes = String.UTF8.encode(this.cluster);
    this.initName = this.database == 0 ? this.cluster : this.cluster + "?db=" + this.database.toString();
  }
}

/** Reads `redis` from a plugin config; null (with the reader failed) when missing or invalid. Passwords never reach a message. */
export function parseRedisConfig(fields: ConfigObject): RedisConfig | null {
  // Higress's words, then the field's path: in a `_rules_` entry that says which one.
  if (!fields.has("redis")) {
    fields.reader.fail(MISSING_REDIS + " at " + fields.pathOf("redis"));
    fields.skip("redis");
    return null;
  }
  const redis = fields.object("redis");
  if (redis === null) return null;
  const config = new RedisConfig();
  const name = redis.string("service_name");
  if (name === null || name.length == 0) {
    if (!fields.reader.failed) fields.reader.fail(EMPTY_SERVICE_NAME + " at " + redis.pathOf("service_name"));
    return null;
  }
  config.serviceName = name;
  // Port 0 means "the default"; Higress takes any integer, we refuse what no port can be.
  const port = redis.int("service_port", 0, 0, 65535, true);
  config.servicePort = port != 0 ? port : name.endsWith(".static") ? 80 : 6379;
  const username = redis.string("username");
  if (username !== null) config.username = username;
  if (redis.has("password")) {
    const password = redis.member("password")!;
    // Say only the type: the value is a secret (G8).
    if (password.kind != JsonKind.String) fields.reader.fail(redis.pathOf("password") + " must be a string");
    else config.password = password.text;
  }
  const timeout = redis.int("timeout", 0, 0, 3600000, true);
  config.timeoutMs = timeout == 0 ? DEFAULT_TIMEOUT_MS : timeout;
  config.database = redis.int("database", 0, 0, 1000000, true);
  redis.done();
  config.name();
  return fields.reader.failed ? null : config;
}
