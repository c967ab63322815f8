/** Every local reply ai-quota sends; the README's error table lists exactly these. */

export class QuotaReply {
  constructor(public status: u32, public body: string, public details: string) {}
}

export const NO_CONSUMER = new QuotaReply(401, "Request denied by ai quota check. No Key Authentication information found.", "ai-quota.no_key");
export const EMPTY_CONSUMER = new QuotaReply(403, "Request denied by ai quota check. Unauthorized consumer.", "ai-quota.unauthorized");
export const NO_QUOTA = new QuotaReply(403, "Request denied by ai quota check, No quota left", "ai-quota.noquota");
export const NOT_ADMIN = new QuotaReply(403, "Request denied by ai quota check. Unauthorized admin consumer.", "ai-quota.unauthorized");
export const QUERY_NEEDS_CONSUMER = new QuotaReply(403, "Request denied by ai quota check. consumer can't be empty.", "ai-quota.unauthorized");
export const REFRESH_NEEDS_FIELDS = new QuotaReply(403, "Request denied by ai quota check. consumer can't be empty and quota must be integer.", "ai-quota.unauthorized");
export const DELTA_NEEDS_FIELDS = new QuotaReply(403, "Request denied by ai quota check. consumer can't be empty and value must be integer.", "ai-quota.unauthorized");
export const REFRESHED = new QuotaReply(200, "refresh quota successful", "ai-quota.refreshquota");
export const DELTA_APPLIED = new QuotaReply(200, "delta quota successful", "ai-quota.deltaquota");
/** Q3: the store could not answer the check (Higress says "No quota left" or hangs). */
export const STORE_UNAVAILABLE = new QuotaReply(503, "Request denied by ai quota check. The quota store is unavailable.", "ai-quota.store_unavailable");

/** Admin replies when Redis fails: `redis error:<message>`, status 503, as Higress. */
export const REDIS_ERROR_PREFIX = "redis error:";
export const REDIS_ERROR_DETAILS = "ai-quota.error";
export const QUERY_DETAILS = "ai-quota.queryquota";
