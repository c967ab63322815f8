import { RandomText } from "./support/random";
import { parseJson, JsonKind, ConfigReader, jsonString } from "../../shared/json/index";
import { decimalValue } from "../../shared/json/number";

function errorOf(text: string): string {
  return parseJson(text).error;
}

describe("parseJson", () => {
  it("reads every kind and keeps object members in order", () => {
    const r = parseJson(' {"b": [1, -2.5e3, true, false, null], "a": "x\\n\\u00e9\\ud83d\\ude00", "c": {}} ');
    expect(r.error).toBe("");
    const v = r.value!;
    expect(v.keys.join(",")).toBe("b,a,c");
    const list = v.get("b")!;
    expect(list.items.length).toBe(5);
    expect(list.items[1].num).toBe(-2500.0);
    expect(list.items[0].isInteger()).toBe(true);
    expect(list.items[1].isInteger()).toBe(false);
    expect(list.items[4].kind).toBe(JsonKind.Null);
    expect(v.get("a")!.text).toBe("x\né😀");
  });

  it("lets the last duplicate key win, as Go", () => {
    expect(parseJson('{"k":1,"k":2}').value!.get("k")!.num).toBe(2.0);
  });

  it("names what is wrong and where", () => {
    expect(errorOf('{"a":1,}')).toBe("unexpected character '}' at offset 7");
    expect(errorOf('{"a" 1}')).toBe("unexpected character '1' at offset 5");
    expect(errorOf("[1,2")).toBe("unexpected end of input at offset 4");
    expect(errorOf('"\\x"')).toBe("invalid escape '\\x' at offset 2");
    expect(errorOf("{} x")).toBe("unexpected character 'x' at offset 3");
    expect(errorOf("01")).toBe("unexpected character '1' at offset 1");
    expect(errorOf("")).toBe("unexpected end of input at offset 0");
  });

  it("refuses nesting deeper than 64 instead of exhausting the stack, naming the path where it was cut", () => {
    const deep = parseJson("[".repeat(100) + "]".repeat(100));
    expect(deep.tooDeep).toBe(true);
    expect(deep.error).toBe("[0]".repeat(65) + ": nesting deeper than 64 at offset 65");
    const inRule = parseJson('{"_rules_":[{"a":1},{"x":' + '{"y":'.repeat(5000) + "1" + "}".repeat(5001) + "]}");
    expect(inRule.error).toBe("_rules_[1].x" + ".y".repeat(62) + ": nesting deeper than 64 at offset " + (25 + 5 * 62).toString());
    const longKey = parseJson('{"' + "k".repeat(50) + '":' + "[".repeat(70) + "]".repeat(70) + "}");
    expect(longKey.error).toBe("k".repeat(40) + "[0]".repeat(64) + ": nesting deeper than 64 at offset " + (54 + 64).toString());
    expect(parseJson('[[1,2,{"a":[}]]').tooDeep).toBe(false);
  });

  it("never traps on random or mutated input", () => {
    const seeds = ['{"keys":["x-api-key"],"consumers":[{"name":"a","credential":"k"}]}', '[1,"a",{"b":null}]', '"\\u12'];
    const random = new RandomText(88172645);
    for (let round = 0; round < 3000; round++) {
      let text = seeds[round % seeds.length];
      for (let m = 0; m < 4; m++) {
        const x = random.next();
        const at = <i32>(x % <u32>(text.length + 1));
        const ch = String.fromCharCode(<i32>((x >> 8) % 128));
        text = (x & 1) ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      }
      parseJson(text);
    }
    expect(true).toBe(true);
  });
});

describe("ConfigReader", () => {
  it("names the path, the expectation and what was found", () => {
    const r = new ConfigReader("key-auth");
    const root = r.root(parseJson('{"consumers":[{"name":"a","credential":42}]}').value!);
    const consumers = root.objectList("consumers")!;
    consumers[0].string("name");
    consumers[0].string("credential");
    expect(r.error).toBe("key-auth: consumers[0].credential must be a string, got 42");
  });

  it("keeps the first error and takes the plugin's own words", () => {
    const r = new ConfigReader("ai-quota");
    r.fail("missing admin_consumer in config");
    r.fail("later");
    expect(r.error).toBe("ai-quota: missing admin_consumer in config");
  });

  it("tells an unset bool from false", () => {
    const r = new ConfigReader("p");
    const root = r.root(parseJson('{"a":false,"b":true}').value!);
    expect(root.bool("a")).toBe(0);
    expect(root.bool("b")).toBe(1);
    expect(root.bool("c")).toBe(-1);
  });

  it("reads integers strictly unless asked to be lenient like Higress", () => {
    const r = new ConfigReader("p");
    const root = r.root(parseJson('{"a":"100","b":10.9,"c":7}').value!);
    expect(root.int("a", 0, 0, 1000, true)).toBe(100);
    expect(root.int("b", 0, 0, 1000, true)).toBe(10);
    expect(root.int("c", 0, 0, 1000)).toBe(7);
    expect(r.failed).toBe(false);
    expect(root.int("b", -1, 0, 1000)).toBe(-1);
    expect(r.error).toBe("p: b must be an integer, got 10.9");
  });

  it("rejects out-of-range integers with the range", () => {
    const r = new ConfigReader("p");
    const root = r.root(parseJson('{"redis":{"service_port":70000}}').value!);
    root.object("redis")!.int("service_port", 0, 0, 65535);
    expect(r.error).toBe("p: redis.service_port must be between 0 and 65535, got 70000");
  });

  it("accepts a lone string as a one-item list only when asked", () => {
    const r = new ConfigReader("p");
    const root = r.root(parseJson('{"keys":"x-api-key"}').value!);
    expect(root.stringList("keys", true)!.join(",")).toBe("x-api-key");
    expect(root.stringList("keys")).toBeNull();
    expect(r.error).toBe('p: keys must be a list of strings, got "x-api-key"');
  });

  it("warns about keys nobody read", () => {
    const r = new ConfigReader("p");
    const root = r.root(parseJson('{"known":1,"typo":2}').value!);
    root.int("known", 0, 0, 10);
    root.done();
    expect(r.warnings.length).toBe(1);
    expect(r.warnings[0]).toBe("p: unknown key 'typo' at typo ignored");
  });
});

describe("jsonString", () => {
  it("escapes quotes, controls and HTML characters as Go does", () => {
    expect(jsonString('a"b\\c\n<&>')).toBe('"a\\"b\\\\c\\n\\u003c\\u0026\\u003e"');
  });
});

describe("decimalValue", () => {
  it("reads integers exactly up to 2^53, and fractions and exponents as parseFloat does", () => {
    expect(decimalValue("0")).toBe(0.0);
    expect(decimalValue("-17")).toBe(-17.0);
    expect(decimalValue("9007199254740992")).toBe(9007199254740992.0);
    expect(decimalValue("1000000000000000000000")).toBe(1e21);
    expect(decimalValue("10.9")).toBe(10.9);
    expect(decimalValue("-2.5e3")).toBe(-2500.0);
    expect(decimalValue("15E-1")).toBe(1.5);
    expect(decimalValue("0.000001")).toBe(0.000001);
    expect(decimalValue("1.2.3")).toBe(1.2);
    expect(isFinite(decimalValue("1e400"))).toBe(false);
    expect(decimalValue("1e-400")).toBe(0.0);
    expect(decimalValue(".5")).toBe(0.5);
    expect(decimalValue("5.")).toBe(5.0);
  });

  it("is NaN without a digit before the exponent, as parseFloat", () => {
    expect(isNaN(decimalValue("..5"))).toBe(true);
    expect(isNaN(decimalValue("."))).toBe(true);
    expect(isNaN(decimalValue("-"))).toBe(true);
    expect(isNaN(decimalValue("e5"))).toBe(true);
  });

  it("agrees with parseFloat within an ulp on random decimals", () => {
    const random = new RandomText(7);
    for (let i = 0; i < 2000; i++) {
      const text = (random.next() % 1000000).toString() + "." + (random.next() % 1000).toString() + "e" + (<i32>(random.next() % 40) - 20).toString();
      const ours = decimalValue(text);
      const theirs = parseFloat(text);
      expect(Math.abs(ours - theirs) <= Math.abs(theirs) * 4.5e-16).toBe(true, text);
    }
  });
});
