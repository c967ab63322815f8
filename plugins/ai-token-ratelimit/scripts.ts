/**
 * The Redis scripts, one EVAL each (G6), kept as Lua in check.lua, charge.lua, reserve.lua and
 * settle.lua. Semantics are Higress ≥ 2.1.9's so both gateways can share counters (R1): counters
 * count up, the check writes nothing, the charge adds to every counter (R1 amended: also past its
 * threshold, where Higress drops it), and the window's TTL starts at the first charge. With
 * reserve_tokens (issue 19) the check is reserve.lua, which adds the reservation where Higress's
 * check reads it, and the charge is settle.lua. The build embeds each file's code as UTF-8 bytes
 * (lua.generated.ts).
 */
import { RedisScript } from "../../shared/redis/index";
import { CHECK_LUA, CHECK_LUA_SIZE, CHARGE_LUA, CHARGE_LUA_SIZE, RESERVE_LUA, RESERVE_LUA_SIZE, SETTLE_LUA, SETTLE_LUA_SIZE } from "./lua.generated";

export const CHECK = RedisScript.at(CHECK_LUA, CHECK_LUA_SIZE);
export const CHARGE = RedisScript.at(CHARGE_LUA, CHARGE_LUA_SIZE);
export const RESERVE = RedisScript.at(RESERVE_LUA, RESERVE_LUA_SIZE);
export const SETTLE = RedisScript.at(SETTLE_LUA, SETTLE_LUA_SIZE);
