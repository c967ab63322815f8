/**
 * ai-token-ratelimit configuration (higress-behavior.md §3.2–3.3) with several windows per entry
 * (R2), linear-time `regexp:` keys (R5) and `failure_mode_deny` (R4). Pure: no host calls.
 */
import { ConfigObject, JsonKind, MAX_EXACT_INTEGER } from "../../shared/json/index";
import { ConfigParser, RuleOptions, ParsedConfig, parsePluginConfig } from "../../shared/rules/index";
import { RedisConfig, parseRedisConfig, CommandBuilder } from "../../shared/redis/index";
import { UsageOptions, parseUsageOptions } from "../../shared/usage/options";
import { OPENAI_ERRORS } from "../../shared/reply/local-reply";
import { Regex, compileRegex } from "../../shared/regex/index";
import { Cidr, parseCidr } from "../../shared/net/index";
import { lowerAscii } from "../../shared/text/index";
import { RATE_LIMITED } from "./errors";
import { Counters } from "./counters";
import { KEY_PREFIX, WINDOW_NAMES, WINDOW_SECONDS, LIMIT_TYPES } from "./keys";

export const PLUGIN_NAME = "ai-token-ratelimit";
export const DEFAULT_REJECTED_CODE: i64 = <i64>RATE_LIMITED.status;
export const DEFAULT_REJECTED_MSG = RATE_LIMITED.body;
/**
 * `rejected_code` must be an error status: a 1xx is no final answer, and a 2xx or 3xx rejection
 * would read as success (or a redirect) to a client that retries on errors only.
 */
export const MIN_REJECTED_CODE: i64 = 400;
export const MAX_REJECTED_CODE: i64 = 599;

export enum Source {
  Header,
  Param,
  Cookie,
  Consumer,
  Ip,
}

/** One limit: a threshold per window, and its Redis key up to the request's value. */
export class Limit {
  /**
   * The key prefix as UTF-8, e.g. `higress-token-ratelimit:default_rule:limit_by_per_header:60:x-api-key:`,
   * and the threshold and window as RESP arguments: both scripts send them. Set by nameKeys.
   */
  keyBytes: ArrayBuffer = new ArrayBuffer(0);
  scriptArgs: ArrayBuffer = new ArrayBuffer(0);
  constructor(public windowSeconds: i64, public threshold: i64) {}

  setKeyPrefix(prefix: string): void {
    this.keyBytes = String.UTF8.encode(prefix);
    this.scriptArgs = CommandBuilder.fragment().int(this.threshold).int(this.windowSeconds).build();
  }
}

/** One `limit_keys` entry. */
export class LimitKey {
  key: string = "";
  any: bool = false;
  regex: Regex | null = null;
  cidr: Cidr | null = null;
  limits: Array<Limit> = [];
  /** The counters chosen last for this key (chooseCounters): requests of one caller come in runs. */
  lastCounters: Counters | null = null;
}

/** One `rule_items` entry. */
export class RuleItem {
  limitType: string = "";
  /** The header/param/cookie name, `x-mse-consumer`, or the `from-…` string: part of the Redis key. */
  ruleKey: string = "";
  source: Source = Source.Header;
  perValue: bool = false;
  /** For per_ip from a header: the header name; "" = the socket address. */
  ipHeader: string = "";
  keys: Array<LimitKey> = [];
}

export class RateLimitConfig {
  ruleName: string = "";
  /** Set in global mode; rule items otherwise. */
  global: Array<Limit> | null = null;
  /** The counters of global mode, made on first use. */
  globalCounters: Counters | null = null;
  items: Array<RuleItem> = [];
  rejectedCode: u32 = <u32>DEFAULT_REJECTED_CODE;
  rejectedMsg: string = DEFAULT_REJECTED_MSG;
  showLimitQuotaHeader: bool = false;
  failureModeDeny: bool = false;
  /** authenticated_consumer_only: the consumer only from key-auth's record, never from a client's header (shared/identity). */
  authenticatedConsumerOnly: bool = false;
  /** Local replies as OpenAI error JSON instead of Higress's text (shared/reply/local-reply.ts). */
  openAiErrors: bool = false;
  /** inject_stream_usage, estimate_missing_usage, estimate_bytes_per_token (A1, A4). */
  usage: UsageOptions = new UsageOptions();
  redis: RedisConfig = new RedisConfig();
}

const PREFIX = "failed to parse rule_item in rule_items: ";
const ONE_OF_WINDOWS = "one of 'token_per_second', 'token_per_minute', 'token_per_hour', or 'token_per_day' must be set";

/** Reads every token_per_* present (R2: several windows at once); `what` names the owner in errors. */
function readLimits(fields: ConfigObject, prefix: string, keyName: string): Array<Limit> | null {
  const limits = new Array<Limit>();
  const reader = fields.reader;
  for (let i = 0; i < WINDOW_NAMES.length; i++) {
    const name = WINDOW_NAMES[i];
    if (!fields.has(name)) {
      fields.skip(name);
      continue;
    }
    // Higress's words for a count that is not positive; the reader's range (at most 2^53 - 1,
    // what the Lua scripts count exactly) for one too large either way, which Higress would take.
    const n = fields.integerPart(name, true);
    if (n <= 0 && n >= -<f64>MAX_EXACT_INTEGER) {
      const where = keyName.length > 0 ? " for key '" + keyName + "'" : "";
      reader.fail(prefix + "'" + name + "' must be a positive integer" + where + ", got " + fields.member(name)!.describe() + " at " + fields.pathOf(name));
      return null;
    }
    const value = fields.int(name, -1, 1, MAX_EXACT_INTEGER, true);
    if (reader.failed) return null;
    limits.push(new Limit(WINDOW_SECONDS[i], value));
  }
  if (limits.length == 0) {
    reader.fail(prefix + ONE_OF_WINDOWS + (keyName.length > 0 ? " for key: " + keyName + " at " + fields.path : " for global_threshold"));
    return null;
  }
  return limits;
}

function readItem(item: ConfigObject): RuleItem | null {
  const reader = item.reader;
  const rule = new RuleItem();
  for (let i = 0; i < LIMIT_TYPES.length; i++) {
    const type = LIMIT_TYPES[i];
    if (!item.has(type)) {
      item.skip(type);
      continue;
    }
    const value = item.string(type);
    if (reader.failed) return null;
    const present = value !== null;
    const isConsumer = type == "limit_by_consumer" || type == "limit_by_per_consumer";
    // The six name-based types count only when non-empty; the consumer types whenever present.
    if (!present || (!isConsumer && value!.length == 0)) continue;
    rule.limitType = type;
    rule.perValue = type.startsWith("limit_by_per_");
    if (isConsumer) {
      rule.source = Source.Consumer;
      rule.ruleKey = "x-mse-consumer";
    } else if (type == "limit_by_per_ip") {
      rule.source = Source.Ip;
      rule.ruleKey = value!;
    } else {
      rule.source = type.endsWith("header") ? Source.Header : type.endsWith("param") ? Source.Param : Source.Cookie;
      rule.ruleKey = value!;
    }
  }
  if (rule.limitType.length == 0) {
    reader.fail(PREFIX + "only one of 'limit_by_header' and 'limit_by_param' and 'limit_by_consumer' and 'limit_by_cookie' and 'limit_by_per_header' and 'limit_by_per_param' and 'limit_by_per_consumer' and 'limit_by_per_cookie' and 'limit_by_per_ip' can be set at " + item.path);
    return null;
  }
  if (rule.source == Source.Ip) {
    if (rule.ruleKey == "from-remote-addr") rule.ipHeader = "";
    else if (rule.ruleKey.startsWith("from-header-")) {
      rule.ipHeader = lowerAscii(rule.ruleKey.slice(12));
      if (rule.ipHeader.length == 0) {
        reader.fail(PREFIX + "limit_by_per_ip parse error: empty after 'from-header-' at " + item.pathOf(rule.limitType));
        return null;
      }
    } else {
      reader.fail(PREFIX + "the 'limit_by_per_ip' restriction must start with 'from-header-' or be exactly 'from-remote-addr' at " + item.pathOf(rule.limitType));
      return null;
    }
  }
  const keys = item.objectList("limit_keys");
  if (reader.failed) return null;
  if (keys === null) {
    reader.fail(PREFIX + "missing limit_keys in config at " + item.pathOf("limit_keys"));
    return null;
  }
  if (keys.length == 0) {
    reader.fail(PREFIX + "config limit_keys cannot be empty at " + item.pathOf("limit_keys"));
    return null;
  }
  for (let i = 0; i < keys.length; i++) {
    const entry = keys[i];
    const key = entry.string("key");
    if (reader.failed) return null;
    if (key === null || key.length == 0) {
      reader.fail(PREFIX + "limit_keys key is required at " + entry.pathOf("key"));
      return null;
    }
    const limitKey = new LimitKey();
    limitKey.key = key;
    if (rule.source == Source.Ip) {
      limitKey.cidr = parseCidr(key);
      if (limitKey.cidr === null) {
        reader.fail(PREFIX + "failed to parse IPNet for key '" + key + "': invalid IP[" + key + "] at " + entry.pathOf("key"));
        return null;
      }
    } else if (rule.perValue) {
      if (key == "*") limitKey.any = true;
      else if (key.startsWith("regexp:")) {
        const compiled = compileRegex(key.slice(7));
        if (compiled.regex === null) {
          reader.fail(entry.pathOf("key") + " regexp " + compiled.describe());
          return null;
        }
        limitKey.regex = compiled.regex;
      } else {
        reader.fail(PREFIX + "the '" + rule.limitType + "' restriction must start with 'regexp:' or be exactly '*' at " + entry.pathOf("key"));
        return null;
      }
    }
    const limits = readLimits(entry, PREFIX, key);
    if (limits === null) return null;
    limitKey.limits = limits;
    entry.done();
    rule.keys.push(limitKey);
  }
  return rule;
}

class RateLimitParser extends ConfigParser<RateLimitConfig> {
  parse(fields: ConfigObject, global: RateLimitConfig | null): RateLimitConfig | null {
    const reader = fields.reader;
    const config = new RateLimitConfig();
    // Higress checks the redis block first.
    const redis = parseRedisConfig(fields);
    if (redis === null) return null;
    config.redis = redis;
    const ruleName = fields.string("rule_name");
    if (reader.failed) return null;
    if (ruleName === null) {
      reader.fail("missing rule_name in config");
      return null;
    }
    config.ruleName = ruleName;
    const hasGlobal = fields.has("global_threshold");
    const hasItems = fields.has("rule_items");
    if (!hasGlobal && !hasItems) {
      reader.fail("at least one of 'global_threshold' or 'rule_items' must be set");
      return null;
    }
    if (hasGlobal && hasItems) {
      reader.fail("'global_threshold' and 'rule_items' cannot be set at the same time");
      return null;
    }
    if (hasGlobal) {
      const threshold = fields.object("global_threshold");
      if (threshold === null) return null;
      config.global = readLimits(threshold, "failed to parse global_threshold: ", "");
      if (config.global === null) return null;
      threshold.done();
    } else {
      // A lone object is read as one item, as Higress's lenient array.
      const raw = fields.member("rule_items")!;
      let items: Array<ConfigObject> | null;
      if (raw.kind == JsonKind.Object) items = [new ConfigObject(reader, raw, fields.pathOf("rule_items"))];
      else items = fields.objectList("rule_items");
      if (reader.failed || items === null) return null;
      if (items.length == 0) {
        reader.fail("config rule_items cannot be empty");
        return null;
      }
      for (let i = 0; i < items.length; i++) {
        const item = readItem(items[i]);
        if (item === null) return null;
        items[i].done();
        config.items.push(item);
      }
    }
    config.rejectedCode = <u32>fields.int("rejected_code", DEFAULT_REJECTED_CODE, MIN_REJECTED_CODE, MAX_REJECTED_CODE, true);
    const message = fields.string("rejected_msg");
    if (message !== null) config.rejectedMsg = message;
    config.showLimitQuotaHeader = fields.lenientBool("show_limit_quota_header") == 1;
    config.failureModeDeny = fields.lenientBool("failure_mode_deny") == 1;
    config.authenticatedConsumerOnly = fields.lenientBool("authenticated_consumer_only") == 1;
    config.openAiErrors = fields.lenientBool(OPENAI_ERRORS) == 1;
    config.usage = parseUsageOptions(fields);
    if (reader.failed) return null;
    nameKeys(config);
    return config;
  }
}

/**
 * Fixes each limit's Redis key, Higress's strings (§3.4), so a request only appends its value:
 * `higress-token-ratelimit:<rule_name>:global_threshold:<window>` or
 * `higress-token-ratelimit:<rule_name>:<limit_type>:<window>:<rule_key>:<value>`.
 */
function nameKeys(config: RateLimitConfig): void {
  const base = KEY_PREFIX + config.ruleName + ":";
  const global = config.global;
  if (global !== null) {
    for (let i = 0; i < global.length; i++) global[i].setKeyPrefix(base + "global_threshold:" + global[i].windowSeconds.toString());
    return;
  }
  for (let i = 0; i < config.items.length; i++) {
    const item = config.items[i];
    for (let k = 0; k < item.keys.length; k++) {
      const limits = item.keys[k].limits;
      for (let l = 0; l < limits.length; l++) {
        limits[l].setKeyPrefix(base + item.limitType + ":" + limits[l].windowSeconds.toString() + ":" + item.ruleKey + ":");
      }
    }
  }
}

/** Parses the plugin configuration text; each `_rules_` entry is a complete config (plain style). */
export function parseRateLimitConfig(text: string): ParsedConfig<RateLimitConfig> {
  return parsePluginConfig<RateLimitConfig>(PLUGIN_NAME, text, new RateLimitParser(), new RuleOptions());
}
