/**
 * The reservation script (reserve_tokens), kept as Lua in reserve.lua and embedded by the build as
 * UTF-8 bytes (lua.generated.ts). Without reserve_tokens the check is a GET and the charge a
 * DECRBY, as Higress's; with it, the settle is a DECRBY of the difference, which may be negative.
 */
import { RedisScript } from "../../shared/redis/index";
import { RESERVE_LUA, RESERVE_LUA_SIZE } from "./lua.generated";

export const RESERVE = RedisScript.at(RESERVE_LUA, RESERVE_LUA_SIZE);
