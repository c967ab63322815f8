/** ai-quota configuration (higress-behavior.md §4.2) plus `failure_mode_deny` (Q3) and `inject_stream_usage` (A1). Pure. */
import { ConfigObject } from "../../shared/json/index";
import { ConfigParser, RuleOptions, ParsedConfig, parsePluginConfig } from "../../shared/rules/index";
import { RedisConfig, parseRedisConfig } from "../../shared/redis/index";
import { UsageOptions, parseUsageOptions } from "../../shared/usage/options";
import { OPENAI_ERRORS } from "../../shared/reply/local-reply";
import { DEFAULT_KEY_PREFIX } from "./keys";

export const PLUGIN_NAME = "ai-quota";
export const DEFAULT_ADMIN_PATH = "/quota";
/** The admin API lives under this suffix plus admin_path (Q1). */
export const CHAT_SUFFIX = "/v1/chat/completions";

export class QuotaConfig {
  adminConsumer: string = "";
  adminPath: string = DEFAULT_ADMIN_PATH;
  /** The three admin path suffixes, derived from adminPath when parsed: query, refresh and delta. */
  adminQuery: string = "";
  adminRefresh: string = "";
  adminDelta: string = "";
  keyPrefix: string = DEFAULT_KEY_PREFIX;
  failureModeDeny: bool = true;
  /** authenticated_consumer_only: the consumer only from key-auth's record, never from a client's header (shared/identity). */
  authenticatedConsumerOnly: bool = false;
  /** Local replies as OpenAI error JSON instead of Higress's text (shared/reply/local-reply.ts). */
  openAiErrors: bool = false;
  /** inject_stream_usage, estimate_missing_usage, estimate_bytes_per_token (A1, A4). */
  usage: UsageOptions = new UsageOptions();
  redis: RedisConfig = new RedisConfig();

  // The key built last: a consumer's chats come in runs, each asking twice (the check, the charge).
  // Held here, the consumer string cannot be freed, so its address names it while it is kept.
  private lastConsumer: string = "";
  private lastKey: string = "";

  /** `<redis_key_prefix><consumer>`, e.g. `chat_quota:aliyun-user1`. */
  keyOf(consumer: string): string {
    if (changetype<usize>(consumer) != changetype<usize>(this.lastConsumer) || this.lastKey.length == 0) {
      this.lastKey = this.keyPrefix + consumer;
      this.lastConsumer = consumer;
    }
    return this.lastKey;
  }
}

class QuotaParser extends ConfigParser<QuotaConfig> {
  parse(fields: ConfigObject, global: QuotaConfig | null): QuotaConfig | null {
    const reader = fields.reader;
    const config = new QuotaConfig();
    const admin = fields.string("admin_consumer");
    if (reader.failed) return null;
    if (admin === null || admin.length == 0) {
      reader.fail("missing admin_consumer in config");
      return null;
    }
    config.adminConsumer = admin;
    const path = fields.string("admin_path");
    if (path !== null && path.length > 0) {
      // Higress concatenates whatever is given ("quota" makes `/v1/chat/completionsquota`); a
      // bare "/" would turn the chat path's trailing-slash spelling into the admin query.
      if (!path.startsWith("/") || path.length < 2) {
        reader.refuse(fields.pathOf("admin_path") + ' must be a path starting with "/", e.g. "' + DEFAULT_ADMIN_PATH + '", got ' + fields.member("admin_path")!.describe());
        return null;
      }
      config.adminPath = path;
    }
    config.adminQuery = CHAT_SUFFIX + config.adminPath;
    config.adminRefresh = config.adminQuery + "/refresh";
    config.adminDelta = config.adminQuery + "/delta";
    const prefix = fields.string("redis_key_prefix");
    if (prefix !== null && prefix.length > 0) config.keyPrefix = prefix;
    const redis = parseRedisConfig(fields);
    if (redis === null) return null;
    config.redis = redis;
    config.failureModeDeny = fields.lenientBool("failure_mode_deny") != 0;
    config.authenticatedConsumerOnly = fields.lenientBool("authenticated_consumer_only") == 1;
    config.openAiErrors = fields.lenientBool(OPENAI_ERRORS) == 1;
    config.usage = parseUsageOptions(fields);
    return reader.failed ? null : config;
  }
}

export function parseQuotaConfig(text: string): ParsedConfig<QuotaConfig> {
  return parsePluginConfig<QuotaConfig>(PLUGIN_NAME, text, new QuotaParser(), new RuleOptions());
}
