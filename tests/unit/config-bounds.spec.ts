import { parseJson, ConfigReader, ConfigObject, MAX_EXACT_INTEGER } from "../../shared/json/index";
import { parseRedisConfig } from "../../shared/redis/index";

/** The error `int` gives for `key` in `json`, read with [min, max] (lenient as Higress unless said). */
function intError(json: string, key: string, min: i64, max: i64, lenient: bool = true): string {
  const reader = new ConfigReader("p");
  reader.root(parseJson(json).value!).int(key, -7, min, max, lenient);
  return reader.error;
}

describe("integer config values (G7: what Redis and Lua hold exactly)", () => {
  it("accepts 2^53 - 1 and refuses 2^53, whatever the caller's own range", () => {
    const reader = new ConfigReader("p");
    expect(reader.root(parseJson('{"n":9007199254740991}').value!).int("n", -7, 1, i64.MAX_VALUE, true)).toBe(MAX_EXACT_INTEGER);
    expect(reader.failed).toBe(false);
    expect(intError('{"n":9007199254740992}', "n", 1, i64.MAX_VALUE)).toBe("p: n must be between 1 and 9007199254740991, got 9007199254740992");
    expect(intError('{"n":-9007199254740992}', "n", i64.MIN_VALUE, 0)).toBe("p: n must be between -9007199254740991 and 0, got -9007199254740992");
  });

  it("refuses i64's maximum, 1e19 and 1e300 instead of saturating them into range", () => {
    expect(intError('{"n":9223372036854775807}', "n", 1, i64.MAX_VALUE)).toBe("p: n must be between 1 and 9007199254740991, got 9223372036854775807");
    expect(intError('{"n":1e19}', "n", 1, i64.MAX_VALUE)).toBe("p: n must be between 1 and 9007199254740991, got 1e19");
    expect(intError('{"n":1e300}', "n", 1, i64.MAX_VALUE)).toBe("p: n must be between 1 and 9007199254740991, got 1e300");
    expect(intError('{"n":-1e300}', "n", i64.MIN_VALUE, i64.MAX_VALUE)).toBe("p: n must be between -9007199254740991 and 9007199254740991, got -1e300");
    expect(intError('{"n":99999999999999999999999}', "n", 0, 65535, false)).toBe("p: n must be between 0 and 65535, got 99999999999999999999999");
  });

  it("bounds lenient numeric strings the same way", () => {
    expect(intError('{"n":"9007199254740992"}', "n", 1, i64.MAX_VALUE)).toBe('p: n must be between 1 and 9007199254740991, got "9007199254740992"');
    expect(intError('{"n":"18446744073709551616"}', "n", 1, i64.MAX_VALUE)).toBe('p: n must be between 1 and 9007199254740991, got "18446744073709551616"');
    expect(intError('{"n":"1e19"}', "n", 1, i64.MAX_VALUE)).toBe('p: n must be an integer, got "1e19"');
  });

  it("reads the integer part for a check made before int, without reporting anything", () => {
    const reader = new ConfigReader("p");
    const root = reader.root(parseJson('{"a":-5.9,"b":"12","c":true,"d":1e300}').value!);
    expect(root.integerPart("a", true)).toBe(-5.0);
    expect(root.integerPart("b", true)).toBe(12.0);
    expect(isNaN(root.integerPart("b"))).toBe(true);
    expect(isNaN(root.integerPart("c", true))).toBe(true);
    expect(isNaN(root.integerPart("missing", true))).toBe(true);
    expect(root.integerPart("d", true) > 1e299).toBe(true);
    expect(reader.failed).toBe(false);
  });
});

function redisError(redis: string): string {
  const reader = new ConfigReader("p");
  parseRedisConfig(new ConfigObject(reader, parseJson('{"redis":' + redis + "}").value!, ""));
  return reader.error;
}

describe("redis integers", () => {
  it("are bounded to their own range whatever their size", () => {
    expect(redisError('{"service_name":"r.static","service_port":1e300}')).toBe("p: redis.service_port must be between 0 and 65535, got 1e300");
    expect(redisError('{"service_name":"r.static","timeout":9223372036854775807}')).toBe("p: redis.timeout must be between 0 and 3600000, got 9223372036854775807");
    expect(redisError('{"service_name":"r.static","database":-1e19}')).toBe("p: redis.database must be between 0 and 1000000, got -1e19");
    expect(redisError('{"service_name":"r.static","database":"1e3"}')).toBe('p: redis.database must be an integer, got "1e3"');
  });
});
