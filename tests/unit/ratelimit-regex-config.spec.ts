import { parseRateLimitConfig } from "../../plugins/ai-token-ratelimit/config";

const REDIS = '"redis":{"service_name":"r.static"}';

/** A config whose second rule item has the keys given (JSON array members). */
function withKeys(keys: string): string {
  return '{"rule_name":"r","rule_items":[{"limit_by_header":"x","limit_keys":[{"key":"a","token_per_minute":1}]},'
    + '{"limit_by_per_header":"x-user","limit_keys":[' + keys + ']}],' + REDIS + "}";
}

describe("ai-token-ratelimit regexp keys", () => {
  it("refuses a key whose program is over the bound, naming the field and its size", () => {
    const parsed = parseRateLimitConfig(withKeys('{"key":"*","token_per_minute":1},{"key":"regexp:(a|b){0,500}c","token_per_minute":1}'));
    expect(parsed.rules).toBeNull();
    expect(parsed.reader.error).toBe("ai-token-ratelimit: rule_items[1].limit_keys[1].key regexp compiles to 2502 states, more than 2000");
  });

  it("accepts the largest program allowed", () => {
    const parsed = parseRateLimitConfig(withKeys('{"key":"regexp:(a|b){0,399}c","token_per_minute":1}'));
    expect(parsed.reader.error).toBe("");
    expect(parsed.rules!.global!.items[1].keys[0].regex!.states).toBe(1997);
  });

  it("names the field of a key that does not compile", () => {
    expect(parseRateLimitConfig(withKeys('{"key":"regexp:(ab","token_per_minute":1}')).reader.error)
      .toBe("ai-token-ratelimit: rule_items[1].limit_keys[0].key regexp does not compile: missing closing )");
    expect(parseRateLimitConfig(withKeys('{"key":"regexp:a{1001}","token_per_minute":1}')).reader.error)
      .toBe("ai-token-ratelimit: rule_items[1].limit_keys[0].key regexp does not compile: invalid repeat count");
  });
});
