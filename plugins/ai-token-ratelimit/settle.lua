-- The settle with reserve_tokens (issue 19), one EVAL at the end of the stream.
-- KEYS: one counter per window. ARGV: threshold and window (seconds) per counter, the difference
-- between the tokens used and those reserved (negative gives back), then per counter the
-- milliseconds its reservation's window had left when the settle was sent, by the gateway's clock
-- (0 or less: ended). The counter is still that window when its PTTL is no more than that (give
-- or take half the window, at most a second): a window opened since has a full window ahead.
-- In the reservation's window the difference is added as it is; once that window has ended the
-- reservation ended with it, and only tokens used beyond it are added, to the current window, as
-- the charge adds them (TTL set when the key is new or has none). Returns the number of counters.
local n = #KEYS
local diff = tonumber(ARGV[2 * n + 1])
for i = 1, n do
  local window = tonumber(ARGV[2 * i])
  local left = tonumber(ARGV[2 * n + 1 + i])
  local pttl = redis.call('pttl', KEYS[i])
  if left > 0 and pttl > 0 and pttl <= left + math.min(window * 500, 1000) then
    redis.call('incrby', KEYS[i], diff)
  elseif diff > 0 then
    local value = redis.call('incrby', KEYS[i], diff)
    if value == diff or redis.call('ttl', KEYS[i]) < 0 then
      redis.call('expire', KEYS[i], window)
    end
  end
end
return n
