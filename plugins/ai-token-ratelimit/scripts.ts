/**
 * The two Redis scripts, one EVAL each (G6), kept as Lua in check.lua and charge.lua. Semantics are
 * Higress ≥ 2.1.9's so both gateways can share counters (R1): counters count up, the check writes
 * nothing, the charge adds to every counter (R1 amended: also past its threshold, where Higress drops it), and the window's TTL
 * starts at the first charge. The build embeds each file's code as UTF-8 bytes (lua.generated.ts).
 */
import { RedisScript } from "../../shared/redis/index";
import { CHECK_LUA, CHECK_LUA_SIZE, CHARGE_LUA, CHARGE_LUA_SIZE } from "./lua.generated";

export const CHECK = RedisScript.at(CHECK_LUA, CHECK_LUA_SIZE);
export const CHARGE = RedisScript.at(CHARGE_LUA, CHARGE_LUA_SIZE);
