/** Redis for the AI plugins: RESP, the Higress `redis` config block, and the client. */
export { CommandBuilder, encodeCommand, RespKind, RespValue, RespReader, decodeReply, parseInt64 } from "./resp";
export { RedisConfig, parseRedisConfig, MISSING_REDIS, EMPTY_SERVICE_NAME } from "./config";
export { RedisClient, RedisReply, RedisScript, replyFailure, integerReplyFailure, CANNOT_CONNECT, CANNOT_READ } from "./client";
export { ClientsByConfig } from "./clients";
export { RedisRuleRoot } from "./rule-root";
