-- The charge, one EVAL at the end of the response (G6, R1 amended).
-- KEYS: one counter per window. ARGV: threshold and window (seconds) per counter, then the amount.
-- Adds the amount to every counter, also one already past its threshold: every token served is
-- recorded (Higress adds only while the counter is at or below the threshold, so tokens served
-- past a limit were never counted and the burst repeated each window). Sets the window's TTL when
-- the key is new or has none. Returns the number of counters charged.
local amount = tonumber(ARGV[#ARGV])
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i])
  local value = redis.call('incrby', KEYS[i], amount)
  if value == amount or redis.call('ttl', KEYS[i]) < 0 then
    redis.call('expire', KEYS[i], window)
  end
end
return #KEYS
