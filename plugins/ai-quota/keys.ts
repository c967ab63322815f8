/**
 * ai-quota's Redis key: `<redis_key_prefix><consumer>` holds the consumer's remaining tokens (an
 * absent key is 0). Pure: the host's dashboard (host/dashboard/) reads the same keys.
 */
export const DEFAULT_KEY_PREFIX = "chat_quota:";
