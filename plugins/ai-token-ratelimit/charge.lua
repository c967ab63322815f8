-- The charge, one EVAL at the end of the response (G6, R1).
-- KEYS: one counter per window. ARGV: threshold and window (seconds) per counter, then the amount.
-- Adds the amount to each counter still within its threshold, and sets the window's TTL when the
-- key is new or has none. Returns the number of counters charged.
local amount = tonumber(ARGV[#ARGV])
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
return charged
