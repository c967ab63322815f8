-- The settle with reserve_tokens (issue 19), one EVAL at the end of the stream.
-- KEYS: one counter per window. ARGV: threshold and window (seconds) per counter, the difference
-- between the tokens used and those reserved (negative gives back), then per counter 1 when the
-- window the reservation went into is still open (the gateway's clock says so), else 0.
-- In the reservation's window the difference is added as it is; once that window has ended the
-- reservation ended with it, and only tokens used beyond it are added, to the current window, as
-- the charge adds them (TTL set when the key is new or has none). Returns the number of counters.
local n = #KEYS
local diff = tonumber(ARGV[2 * n + 1])
for i = 1, n do
  local window = tonumber(ARGV[2 * i])
  if ARGV[2 * n + 1 + i] == '1' and redis.call('exists', KEYS[i]) == 1 then
    redis.call('incrby', KEYS[i], diff)
  elseif diff > 0 then
    local value = redis.call('incrby', KEYS[i], diff)
    if value == diff or redis.call('ttl', KEYS[i]) < 0 then
      redis.call('expire', KEYS[i], window)
    end
  end
end
return n
