/** The admin API (§4.3–4.4, Q1): query, refresh and delta of a consumer's quota. Never forwarded, never charged. */
import { Header, sendLocalResponse, getRequestHeader, Status } from "../../shared/index";
import { splitPath, parseQuery, getQueryValues, QueryParam } from "../../shared/url/index";
import { RedisClient, RedisReply, RespValue, parseInt64 } from "../../shared/redis/index";
import { jsonString, MAX_EXACT_INTEGER } from "../../shared/json/index";
import { sendReply } from "../../shared/reply/local-reply";
import { QuotaConfig } from "./config";
import {
  QuotaReply, QUERY_NEEDS_CONSUMER, REFRESH_NEEDS_FIELDS, DELTA_NEEDS_FIELDS, REFRESHED, DELTA_APPLIED,
  REDIS_ERROR_PREFIX, REDIS_ERROR_DETAILS, QUERY_DETAILS,
} from "./errors";

/** An admin API answer: always Higress's text. */
export function reply(answer: QuotaReply): void {
  sendReply(answer, false);
}

function redisError(message: string): void {
  sendLocalResponse(503, REDIS_ERROR_DETAILS, String.UTF8.encode(REDIS_ERROR_PREFIX + message), null);
}

function first(params: Array<QueryParam>, name: string): string {
  const values = getQueryValues(params, name);
  return values.length == 0 ? "" : values[0];
}

class QueryAnswer extends RedisReply {
  constructor(private consumer: string) {
    super();
  }
  onReply(value: RespValue): void {
    if (value.isError) return redisError(value.text);
    const quota = value.isNull ? 0 : value.toInteger();
    // Consumer first, as Higress's code writes it.
    const body = '{"consumer":' + jsonString(this.consumer) + ',"quota":' + quota.toString() + "}";
    sendLocalResponse(200, QUERY_DETAILS, String.UTF8.encode(body), [new Header("content-type", "application/json")]);
  }
}

class WriteAnswer extends RedisReply {
  constructor(private success: QuotaReply) {
    super();
  }
  onReply(value: RespValue): void {
    if (value.isError) return redisError(value.text);
    reply(this.success);
  }
}

/** GET …/quota?consumer=c; true when the request now waits for Redis. */
export function queryQuota(config: QuotaConfig, client: RedisClient): bool {
  const path = getRequestHeader(":path");
  const consumer = path === null ? "" : first(parseQuery(splitPath(path).query), "consumer");
  if (consumer.length == 0) {
    reply(QUERY_NEEDS_CONSUMER);
    return false;
  }
  const status = client.get(config.keyOf(consumer), new QueryAnswer(consumer));
  if (status != Status.Ok) {
    redisError("cannot dispatch the command (status " + status.toString() + ")");
    return false;
  }
  return true;
}

/** refresh (`consumer`, `quota`) or delta (`consumer`, `value`) from a form body; true when waiting for Redis. */
export function writeQuota(config: QuotaConfig, client: RedisClient, form: string, refresh: bool): bool {
  const params = parseQuery(form);
  const consumer = first(params, "consumer");
  const number = parseInt64(first(params, refresh ? "quota" : "value"));
  // G7: a quota is an integer every reader holds exactly (a JSON client, a Lua script: doubles),
  // so past ±(2^53 - 1) it is "not an integer", Higress's answer, rather than a rounded counter.
  if (consumer.length == 0 || !number.ok || number.value > MAX_EXACT_INTEGER || number.value < -MAX_EXACT_INTEGER) {
    reply(refresh ? REFRESH_NEEDS_FIELDS : DELTA_NEEDS_FIELDS);
    return false;
  }
  const key = config.keyOf(consumer);
  let status: Status;
  if (refresh) status = client.set(key, number.value.toString(), new WriteAnswer(REFRESHED));
  else if (number.value >= 0) status = client.incrBy(key, number.value, new WriteAnswer(DELTA_APPLIED));
  else status = client.decrBy(key, -number.value, new WriteAnswer(DELTA_APPLIED));
  if (status != Status.Ok) {
    redisError("cannot dispatch the command (status " + status.toString() + ")");
    return false;
  }
  return true;
}
