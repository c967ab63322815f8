-- The check with reserve_tokens (issue 19): one EVAL that decides and reserves, so concurrent
-- requests cannot all pass one window.
-- KEYS: one counter per window. ARGV: threshold and window (seconds) per counter, then the
-- reservation. A counter fits when it is at most its threshold (Higress's check) and the
-- reservation fits in what is left; a window with nothing in it takes any one request, so a
-- request larger than a whole window is served alone, never refused for ever. When every counter
-- fits, the reservation is added to each (the window's TTL set as the charge sets it).
-- A counter that is not an integer is an error reply, before anything is written.
-- Returns {taken (1 or 0), then {threshold, current, ttl (s), ttl (ms), fits (1 or 0)} per counter},
-- current after the reservation when taken.
local amount = tonumber(ARGV[#ARGV])
local out = {1}
for i = 1, #KEYS do
  local threshold = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local value = redis.call('get', KEYS[i])
  -- Checked before anything is written: an INCRBY failing half-way would leave part of a reservation.
  if value and not string.match(value, '^%-?%d+$') then
    return redis.error_reply('ERR counter ' .. KEYS[i] .. ' is not an integer')
  end
  local current = tonumber(value or '0')
  local pttl = redis.call('pttl', KEYS[i])
  if pttl < 0 then pttl = window * 1000 end
  local fits = 0
  if current <= threshold and (current <= 0 or current + amount <= threshold) then fits = 1 end
  if fits == 0 then out[1] = 0 end
  out[i + 1] = {threshold, current, math.ceil(pttl / 1000), pttl, fits}
end
if out[1] == 0 or amount == 0 then return out end
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i])
  local value = redis.call('incrby', KEYS[i], amount)
  if value == amount or redis.call('ttl', KEYS[i]) < 0 then
    redis.call('expire', KEYS[i], window)
    out[i + 1][3] = window
    out[i + 1][4] = window * 1000
  end
  out[i + 1][2] = value
end
return out
