-- The check, one EVAL before the request is forwarded (G6). It writes nothing.
-- KEYS: one counter per window. ARGV: threshold and window (seconds) per counter.
-- Returns {threshold, current, ttl} per counter; an absent key reads {threshold, 0, window}.
local out = {}
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
return out
