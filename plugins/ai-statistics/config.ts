/**
 * ai-statistics configuration: Higress's fields, as far as this plugin implements them (README,
 * "Configuration"), plus `inject_stream_usage` and `authenticated_consumer_only` as in the other AI
 * plugins. A field Higress takes that is not implemented fails configuration naming it, never
 * silently ignored. Pure.
 */
import { ConfigObject } from "../../shared/json/index";
import { ConfigParser, RuleOptions, ParsedConfig, parsePluginConfig } from "../../shared/rules/index";
import { UsageOptions, INJECT_STREAM_USAGE } from "../../shared/usage/options";
import { AUTHENTICATED_CONSUMER_ONLY } from "../../shared/identity/consumer";
import { JsonPath, parsePath, pathError } from "./json-path";

export const PLUGIN_NAME = "ai-statistics";
/** Higress's default `value_length_limit` (its code; the README says 4000). */
export const DEFAULT_VALUE_LENGTH_LIMIT: i32 = 32000;
export const MAX_VALUE_LENGTH_LIMIT: i32 = 10485760;

/** `value_source` values. */
export const FIXED_VALUE = "fixed_value";
export const REQUEST_HEADER = "request_header";
export const REQUEST_BODY = "request_body";
export const RESPONSE_HEADER = "response_header";
export const RESPONSE_BODY = "response_body";
export const RESPONSE_STREAMING_BODY = "response_streaming_body";
/** `rule` values, for response_streaming_body. */
export const RULE_FIRST = "first";
export const RULE_REPLACE = "replace";
export const RULE_APPEND = "append";

export const SOURCE_FIXED: i32 = 1;
export const SOURCE_REQUEST_HEADER: i32 = 2;
export const SOURCE_REQUEST_BODY: i32 = 4;
export const SOURCE_RESPONSE_HEADER: i32 = 8;
export const SOURCE_RESPONSE_BODY: i32 = 16;
export const SOURCE_STREAMING_BODY: i32 = 32;
const SOURCE_NAMES: StaticArray<string> = [FIXED_VALUE, REQUEST_HEADER, REQUEST_BODY, RESPONSE_HEADER, RESPONSE_BODY, RESPONSE_STREAMING_BODY];

export const RULE_NONE: i32 = 0;
export const FIRST: i32 = 1;
export const REPLACE: i32 = 2;
export const APPEND: i32 = 3;

/** Higress's session headers, read in this order after `session_id_header`. */
export const DEFAULT_SESSION_HEADERS: StaticArray<string> = ["x-openclaw-session-key", "x-clawdbot-session-key", "x-moltbot-session-key", "x-agent-session"];

/** One entry of `attributes` that is written to the log (apply_to_log). */
export class Attribute {
  key: string = "";
  /** SOURCE_* bits: where the value is read. */
  sources: i32 = 0;
  /** fixed_value's value, or the header's name (lower case). */
  value: string = "";
  defaultValue: string = "";
  rule: i32 = RULE_NONE;
  /** Paths per body source, tried in order (the configured one, then a built-in key's fallbacks): the first valid value wins. */
  requestPaths: Array<JsonPath> = [];
  bodyPaths: Array<JsonPath> = [];
  streamPaths: Array<JsonPath> = [];
}

export class StatisticsConfig {
  /** The attributes by when they are read. */
  requestAttributes: Array<Attribute> = [];
  requestBodyAttributes: Array<Attribute> = [];
  responseHeaderAttributes: Array<Attribute> = [];
  responseBodyAttributes: Array<Attribute> = [];
  streamAttributes: Array<Attribute> = [];
  disableOpenAiUsage: bool = false;
  valueLengthLimit: i32 = DEFAULT_VALUE_LENGTH_LIMIT;
  /** Empty: every path, every content type. */
  pathSuffixes: Array<string> = [];
  contentTypes: Array<string> = [];
  sessionIdHeader: string = "";
  authenticatedConsumerOnly: bool = false;
  usage: UsageOptions = new UsageOptions();
}

// Built-in keys (Higress's), read without a value_source from their default sources.
const QUESTION = "question";
const SYSTEM = "system";
const ANSWER = "answer";
const REASONING = "reasoning";
/** Built-in keys this plugin does not extract: refused when used as built-ins. */
const UNSUPPORTED_BUILTINS: StaticArray<string> = ["tool_calls", "reasoning_tokens", "cached_tokens", "input_token_details", "output_token_details"];

function isBuiltin(key: string): bool {
  return key == QUESTION || key == SYSTEM || key == ANSWER || key == REASONING;
}

/** A built-in key's own paths for one source (Higress's). */
function builtinPaths(key: string, source: i32): Array<string> {
  if (source == SOURCE_REQUEST_BODY) {
    if (key == QUESTION) return ["messages.@reverse.0.content"];
    if (key == SYSTEM) return ["system"];
  } else if (source == SOURCE_RESPONSE_BODY) {
    if (key == ANSWER) return ["choices.0.message.content", "content.0.text"];
    if (key == REASONING) return ["choices.0.message.reasoning_content"];
  } else if (source == SOURCE_STREAMING_BODY) {
    if (key == ANSWER) return ["choices.0.delta.content", "delta.text"];
    if (key == REASONING) return ["choices.0.delta.reasoning_content"];
  }
  return [];
}

function builtinSources(key: string): i32 {
  return key == QUESTION || key == SYSTEM ? SOURCE_REQUEST_BODY : SOURCE_RESPONSE_BODY | SOURCE_STREAMING_BODY;
}

function sourceOf(name: string): i32 {
  for (let i = 0; i < SOURCE_NAMES.length; i++) if (unchecked(SOURCE_NAMES[i]) == name) return 1 << i;
  return 0;
}

/** Refuses `field` when it is set to something this plugin does not implement. */
function unsupportedTrue(fields: ConfigObject, field: string, why: string): bool {
  if (fields.lenientBool(field) != 1) return false;
  fields.reader.fail(fields.pathOf(field) + " is not supported: " + why);
  return true;
}

class StatisticsParser extends ConfigParser<StatisticsConfig> {
  parse(fields: ConfigObject, global: StatisticsConfig | null): StatisticsConfig | null {
    const reader = fields.reader;
    const config = new StatisticsConfig();
    if (unsupportedTrue(fields, "use_default_attributes", "its attributes include tool_calls and token details, which this plugin does not extract; list the attributes you need")) return null;
    if (unsupportedTrue(fields, "use_default_response_attributes", "its attributes are token details, which this plugin does not extract")) return null;
    const attributes = fields.objectList("attributes");
    if (reader.failed) return null;
    if (attributes !== null) {
      for (let i = 0; i < attributes.length; i++) {
        const attribute = parseAttribute(unchecked(attributes[i]));
        if (reader.failed) return null;
        if (attribute !== null) file(config, attribute);
      }
    }
    config.disableOpenAiUsage = fields.lenientBool("disable_openai_usage") == 1;
    config.valueLengthLimit = <i32>fields.int("value_length_limit", DEFAULT_VALUE_LENGTH_LIMIT, 1, MAX_VALUE_LENGTH_LIMIT, true);
    config.pathSuffixes = everyUnlessStar(fields.stringList("enable_path_suffixes"));
    config.contentTypes = everyUnlessStar(fields.stringList("enable_content_types"));
    const session = fields.string("session_id_header");
    if (session !== null) config.sessionIdHeader = session.toLowerCase();
    config.authenticatedConsumerOnly = fields.lenientBool(AUTHENTICATED_CONSUMER_ONLY) == 1;
    config.usage.inject = fields.lenientBool(INJECT_STREAM_USAGE) != 0;
    // Statistics count what the upstream reported: an answer without usage is not estimated.
    config.usage.estimate = false;
    config.usage.readChatId = true;
    return reader.failed ? null : config;
  }
}

/** Higress's lists: absent or containing "*" is every value (an empty list). */
function everyUnlessStar(list: Array<string> | null): Array<string> {
  if (list === null || list.includes("*")) return [];
  return list;
}

function file(config: StatisticsConfig, attribute: Attribute): void {
  const sources = attribute.sources;
  if ((sources & (SOURCE_FIXED | SOURCE_REQUEST_HEADER)) != 0) config.requestAttributes.push(attribute);
  if ((sources & SOURCE_REQUEST_BODY) != 0) config.requestBodyAttributes.push(attribute);
  if ((sources & SOURCE_RESPONSE_HEADER) != 0) config.responseHeaderAttributes.push(attribute);
  if ((sources & SOURCE_RESPONSE_BODY) != 0) config.responseBodyAttributes.push(attribute);
  if ((sources & SOURCE_STREAMING_BODY) != 0) config.streamAttributes.push(attribute);
}

/** Adds `text` parsed as a path to `paths`; false (and the reader failed) when it cannot be. */
function addPath(fields: ConfigObject, paths: Array<JsonPath>, text: string): bool {
  const path = parsePath(text);
  if (path === null) {
    fields.reader.fail(fields.pathOf("value") + " " + pathError + ", got " + fields.member("value")!.describe());
    return false;
  }
  paths.push(path);
  return true;
}

/** One attribute; null when it writes nothing (apply_to_log false) or is refused (reader.failed). */
function parseAttribute(fields: ConfigObject): Attribute | null {
  const reader = fields.reader;
  if (unsupportedTrue(fields, "apply_to_span", "this plugin writes no trace spans")) return null;
  if (unsupportedTrue(fields, "as_separate_log_field", "attributes are written to ai_log only")) return null;
  const spanKey = fields.string("trace_span_key");
  if (spanKey !== null && spanKey.length > 0) {
    reader.fail(fields.pathOf("trace_span_key") + " is not supported: this plugin writes no trace spans");
    return null;
  }
  const key = fields.string("key");
  const sourceName = fields.string("value_source");
  const value = fields.string("value");
  const defaultValue = fields.string("default_value");
  const ruleName = fields.string("rule");
  const toLog = fields.lenientBool("apply_to_log") == 1;
  if (reader.failed) return null;
  fields.done();
  if (key === null || key.length == 0) {
    reader.fail(fields.pathOf("key") + " is required");
    return null;
  }
  const attribute = new Attribute();
  attribute.key = key;
  if (defaultValue !== null) attribute.defaultValue = defaultValue;
  if (ruleName !== null && ruleName.length > 0) {
    attribute.rule = ruleName == RULE_FIRST ? FIRST : ruleName == RULE_REPLACE ? REPLACE : ruleName == RULE_APPEND ? APPEND : RULE_NONE;
    if (attribute.rule == RULE_NONE) {
      reader.fail(fields.pathOf("rule") + " must be one of first, replace, append, got " + fields.member("rule")!.describe());
      return null;
    }
  }
  const builtin = isBuiltin(key);
  const configured = sourceName !== null && sourceName.length > 0;
  if (!configured && !builtin) {
    if (UNSUPPORTED_BUILTINS.includes(key)) {
      reader.fail(fields.pathOf("key") + ' "' + key + '" as a built-in attribute is not supported: this plugin does not extract tool calls or token details');
    } else {
      reader.fail(fields.pathOf("value_source") + " is required for key \"" + key + "\" (one of " + SOURCE_NAMES.join(", ") + "; built-in keys without it: question, system, answer, reasoning)");
    }
    return null;
  }
  const source = configured ? sourceOf(sourceName!) : 0;
  if (configured && source == 0) {
    reader.fail(fields.pathOf("value_source") + " must be one of " + SOURCE_NAMES.join(", ") + ", got " + fields.member("value_source")!.describe());
    return null;
  }
  const text = value === null ? "" : value;
  if (!builtin && text.length == 0) {
    reader.fail(fields.pathOf("value") + " is required with value_source " + sourceName!);
    return null;
  }
  attribute.sources = configured ? source : builtinSources(key);
  if (source == SOURCE_STREAMING_BODY && attribute.rule == RULE_NONE && !builtin) {
    // Higress takes it and logs "unsupported rule type" on every stream, extracting nothing.
    reader.refuse(fields.pathOf("rule") + " is required with value_source " + RESPONSE_STREAMING_BODY + ": first, replace or append");
    return null;
  }
  // Built-in streamed text is joined when no rule says otherwise (Higress's default attributes do so).
  if (builtin && attribute.rule == RULE_NONE) attribute.rule = APPEND;
  if (source == SOURCE_FIXED) attribute.value = text;
  else if (source == SOURCE_REQUEST_HEADER || source == SOURCE_RESPONSE_HEADER) attribute.value = text.toLowerCase();
  const bodies: StaticArray<i32> = [SOURCE_REQUEST_BODY, SOURCE_RESPONSE_BODY, SOURCE_STREAMING_BODY];
  for (let b = 0; b < bodies.length; b++) {
    const body = unchecked(bodies[b]);
    if ((attribute.sources & body) == 0) continue;
    const paths = body == SOURCE_REQUEST_BODY ? attribute.requestPaths : body == SOURCE_RESPONSE_BODY ? attribute.bodyPaths : attribute.streamPaths;
    if (text.length > 0 && !addPath(fields, paths, text)) return null;
    if (builtin) {
      const fallbacks = builtinPaths(key, body);
      for (let f = 0; f < fallbacks.length; f++) paths.push(parsePath(unchecked(fallbacks[f]))!);
    }
  }
  // Without apply_to_log an attribute only feeds spans, which this plugin does not write.
  return toLog ? attribute : null;
}

export function parseStatisticsConfig(text: string): ParsedConfig<StatisticsConfig> {
  return parsePluginConfig<StatisticsConfig>(PLUGIN_NAME, text, new StatisticsParser(), new RuleOptions());
}
