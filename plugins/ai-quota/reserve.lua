-- The check with reserve_tokens (issue 19): one EVAL that decides and reserves, so concurrent
-- requests cannot all pass one quota.
-- KEYS[1]: the consumer's quota. ARGV[1]: the reservation (tokens, at least 0).
-- A quota that is absent, not an integer or at most 0 is no quota, as Higress reads it; one below
-- the reservation does not fit. Returns {1, quota left} when reserved, {0, quota} when not.
local value = redis.call('get', KEYS[1])
if not value or not string.match(value, '^%-?%d+$') then return {0, 0} end
local quota = tonumber(value)
local amount = tonumber(ARGV[1])
if quota <= 0 or quota < amount then return {0, quota} end
if amount == 0 then return {1, quota} end
return {1, redis.call('decrby', KEYS[1], amount)}
