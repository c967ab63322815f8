/**
 * The two Redis scripts, one EVAL each (G6). Semantics are Higress ≥ 2.1.9's so both gateways can
 * share counters (R1): counters count up, the check writes nothing, the charge adds only while the
 * counter is within its threshold, and the window's TTL starts at the first charge.
 */

/**
 * Check: KEYS = counters, ARGV = threshold, window per counter.
 * Returns {threshold, current, ttl} per counter; an absent key reads {threshold, 0, window}.
 */
export const CHECK_SCRIPT = `local out = {}
for i = 1, #KEYS do
  local threshold = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local current = redis.call('get', KEYS[i])
  if current == false then
    out[i] = {threshold, 0, window}
  else
    local ttl = redis.call('ttl', KEYS[i])
    if ttl < 0 then ttl = window end
    out[i] = {threshold, tonumber(current) or 0, ttl}
  end
end
return out`;

/**
 * Charge: KEYS = counters, ARGV = threshold, window per counter, then the amount.
 * Adds the amount to each counter still within its threshold; sets the TTL when the key is new
 * or has none. Returns the number of counters charged.
 */
export const CHARGE_SCRIPT = `local amount = tonumber(ARGV[#ARGV])
local charged = 0
for i = 1, #KEYS do
  local threshold = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local current = tonumber(redis.call('get', KEYS[i]) or '0') or 0
  if current <= threshold then
    local value = redis.call('incrby', KEYS[i], amount)
    if value == amount or redis.call('ttl', KEYS[i]) < 0 then
      redis.call('expire', KEYS[i], window)
    end
    charged = charged + 1
  end
end
return charged`;
