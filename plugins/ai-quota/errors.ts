/**
 * Every local reply ai-quota sends; the README's error table lists exactly these. With
 * `openai_errors`, the replies to requests outside the admin API are OpenAI error JSON with the
 * type and code given here; the admin API keeps Higress's text, which scripts read.
 */
import { LocalReply, INVALID_REQUEST, SERVER_ERROR } from "../../shared/reply/local-reply";

export type QuotaReply = LocalReply;
/** OpenAI's own type and code for an exhausted quota, which its SDKs and clients recognise. */
const INSUFFICIENT_QUOTA = "insufficient_quota";

export const NO_CONSUMER = new LocalReply(401, "Request denied by ai quota check. No Key Authentication information found.", "ai-quota.no_key", INVALID_REQUEST, "invalid_api_key");
export const EMPTY_CONSUMER = new LocalReply(403, "Request denied by ai quota check. Unauthorized consumer.", "ai-quota.unauthorized", INVALID_REQUEST, "unauthorized_consumer");
export const NO_QUOTA = new LocalReply(403, "Request denied by ai quota check, No quota left", "ai-quota.noquota", INSUFFICIENT_QUOTA, INSUFFICIENT_QUOTA);
export const NOT_ADMIN = new LocalReply(403, "Request denied by ai quota check. Unauthorized admin consumer.", "ai-quota.unauthorized");
export const QUERY_NEEDS_CONSUMER = new LocalReply(403, "Request denied by ai quota check. consumer can't be empty.", "ai-quota.unauthorized");
export const REFRESH_NEEDS_FIELDS = new LocalReply(403, "Request denied by ai quota check. consumer can't be empty and quota must be integer.", "ai-quota.unauthorized");
export const DELTA_NEEDS_FIELDS = new LocalReply(403, "Request denied by ai quota check. consumer can't be empty and value must be integer.", "ai-quota.unauthorized");
export const REFRESHED = new LocalReply(200, "refresh quota successful", "ai-quota.refreshquota");
export const DELTA_APPLIED = new LocalReply(200, "delta quota successful", "ai-quota.deltaquota");
/** Q3: the store could not answer the check (Higress says "No quota left" or hangs). */
export const STORE_UNAVAILABLE = new LocalReply(503, "Request denied by ai quota check. The quota store is unavailable.", "ai-quota.store_unavailable", SERVER_ERROR, "quota_store_unavailable");

/** Admin replies when Redis fails: `redis error:<message>`, status 503, as Higress. */
export const REDIS_ERROR_PREFIX = "redis error:";
export const REDIS_ERROR_DETAILS = "ai-quota.error";
export const QUERY_DETAILS = "ai-quota.queryquota";
