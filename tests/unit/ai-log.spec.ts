/// <reference path="./as-pect.d.ts" />
// Unit tests of ai_log's encoding (shared/usage/ai-log.ts): the bytes written into the filter
// state, read back the way the access log's reader does (a JSON string holding a JSON object).
import { AiLog, aiLog, encodedText } from "../../shared/usage/ai-log";
import { parseJson, JsonKind, JsonValue, jsonString } from "../../shared/json/index";
import { RandomText } from "./support/random";

/** The stored value (the contents of a JSON string) read back as the object it holds. */
function readBack(stored: string): JsonValue {
  const outer = parseJson('"' + stored + '"');
  expect(outer.error).toBe("");
  expect(outer.value!.kind).toBe(JsonKind.String);
  const inner = parseJson(outer.value!.text);
  expect(inner.error).toBe("");
  expect(inner.value!.kind).toBe(JsonKind.Object);
  return inner.value!;
}

/** What a stored value of `json` is: `json` as a JSON string, without its quotes. */
function storedForm(json: string): string {
  const quoted = jsonString(json);
  return quoted.substring(1, quoted.length - 1);
}

function encodeAlone(log: AiLog): string {
  expect(log.encode(0, 0)).toBeGreaterThan(0);
  return encodedText();
}

function encodeAfter(log: AiLog, stored: string): i32 {
  const bytes = String.UTF8.encode(stored);
  return log.encode(changetype<usize>(bytes), bytes.byteLength);
}

const AWKWARD: Array<string> = [
  'say "hi"', "back\\slash", "line\nfeed\r\ttab", "bell\u0001\u001f", "<b>&amp;</b>", "sep\u2028\u2029",
  "é and ü", "中文", "emoji 😀 pair", "", "x".repeat(700),
];

describe("AiLog.encode", () => {
  it("writes each awkward string so that reading the stored value back gives it unchanged, the same bytes as Go's escaping twice", () => {
    for (let i = 0; i < AWKWARD.length; i++) {
      const value = AWKWARD[i];
      const stored = encodeAlone(aiLog().string("k", value));
      expect(readBack(stored).get("k")!.text).toBe(value);
      expect(stored).toBe(storedForm("{" + jsonString("k") + ":" + jsonString(value) + "}"));
    }
  });

  it("writes integers at the edges of i64, booleans and JSON as they are, keys sorted", () => {
    const stored = encodeAlone(aiLog().int("z", i64.MIN_VALUE).int("m", i64.MAX_VALUE).bool("b", true).int("a", 0).json("j", '{"x":[1,"<"]}').bool("c", false));
    // JSON given as JSON is kept as it is, `<` included; only its quotes are escaped for the string that holds it.
    expect(stored).toBe('{\\"a\\":0,\\"b\\":true,\\"c\\":false,\\"j\\":{\\"x\\":[1,\\"<\\"]},\\"m\\":9223372036854775807,\\"z\\":-9223372036854775808}');
    const back = readBack(stored);
    expect(back.keys.join(",")).toBe("a,b,c,j,m,z");
    expect(back.get("j")!.get("x")!.items[1].text).toBe("<");
  });

  it("writes a literal value from its bytes kept since the first write, the same as an equal string built at run time", () => {
    const built = "say " + '"' + "hi" + '"' + " <now>";
    const once = encodeAlone(aiLog().string("k", 'say "hi" <now>'));
    const twice = encodeAlone(aiLog().string("k", 'say "hi" <now>'));
    const fresh = encodeAlone(aiLog().string("k", built));
    expect(twice).toBe(once);
    expect(fresh).toBe(once);
    expect(readBack(twice).get("k")!.text).toBe(built);
  });

  it("sorts keys set in any order, write after write: the same keys again, in another order, or others of the same count", () => {
    const sorted = storedForm('{"a":1,"m":2,"z":3}');
    for (let round = 0; round < 2; round++) {
      expect(encodeAlone(aiLog().int("z", 3).int("a", 1).int("m", 2))).toBe(sorted);
      expect(encodeAlone(aiLog().int("z", 3).int("a", 1).int("m", 2))).toBe(sorted);
      expect(encodeAlone(aiLog().int("m", 2).int("z", 3).int("a", 1))).toBe(sorted);
      // Other keys, as many, right after: the last order does not fit them.
      expect(encodeAlone(aiLog().int("b", 1).int("y", 2).int("n", 3))).toBe(storedForm('{"b":1,"n":3,"y":2}'));
      // Equal keys built at run time are the same keys.
      const m = "mm".substring(1);
      expect(encodeAlone(aiLog().int("z", 3).int(m, 2).int("a", 1).int(m, 2))).toBe(sorted);
    }
  });

  it("keeps one value per key, the last set", () => {
    expect(encodeAlone(aiLog().string("k", "first").int("k", 2))).toBe(storedForm('{"k":2}'));
  });

  it("escapes a key that needs it as it escapes values", () => {
    const key = 'a "quoted" <key>';
    expect(readBack(encodeAlone(aiLog().string(key, "v"))).get(key)!.text).toBe("v");
  });

  it("appends to a compact object holding none of its keys, with a comma unless it is empty", () => {
    const first = storedForm('{"other":"x","n":1}');
    expect(encodeAfter(aiLog().int("quota", 5), first)).toBeGreaterThan(0);
    expect(encodedText()).toBe(storedForm('{"other":"x","n":1,"quota":5}'));
    expect(encodeAfter(aiLog().int("quota", 5), "{}")).toBeGreaterThan(0);
    expect(encodedText()).toBe(storedForm('{"quota":5}'));
  });

  it("leaves to the general case a stored value that holds one of its keys, or is no compact object", () => {
    expect(encodeAfter(aiLog().int("a", 1).int("quota", 5), storedForm('{"quota":3}'))).toBe(-1);
    expect(encodeAfter(aiLog().int("quota", 5), "not json")).toBe(-1);
    expect(encodeAfter(aiLog().int("quota", 5), "{")).toBe(-1);
  });

  it("finds its key among many stored members, and in a stored value with more commas than members", () => {
    let members = "";
    for (let i = 0; i < 300; i++) members += jsonString("k" + i.toString()) + ":" + i.toString() + ",";
    // 300 members before ours: past the list of member starts, every position is still compared.
    expect(encodeAfter(aiLog().int("quota", 5), storedForm("{" + members + '"quota":1}'))).toBe(-1);
    expect(encodeAfter(aiLog().int("quota", 5), storedForm("{" + members + '"other":1}'))).toBeGreaterThan(0);
    expect(readBack(encodedText()).get("quota")!.num).toBe(5.0);
    // Commas inside a string value start no member: the key written there is not one.
    const commas = storedForm('{"note":"a,\\"quota\\":1,b"}');
    expect(encodeAfter(aiLog().int("quota", 5), commas)).toBeGreaterThan(0);
    expect(readBack(encodedText()).get("quota")!.num).toBe(5.0);
  });

  it("merges into 500 random stored objects: refuses exactly those that hold one of its keys, and otherwise keeps every stored member and adds its own", () => {
    const random = new RandomText(20261204);
    // Keys and values with quotes, backslashes, commas, colons, braces, controls and non-ASCII.
    const alphabet = 'aqu_ot,:{}"\\\n<é😀';
    for (let round = 0; round < 500; round++) {
      const keys = new Array<string>();
      let object = "{";
      const members = <i32>(random.next() % 6);
      for (let m = 0; m < members; m++) {
        // Now and then one of ours, as another plugin could have written it.
        const key = random.next() % 5 == 0 ? "quota" : random.string(alphabet, 8);
        if (keys.includes(key)) continue;
        keys.push(key);
        object += (keys.length > 1 ? "," : "") + jsonString(key) + ":" + jsonString(random.string(alphabet, 12));
      }
      const stored = storedForm(object + "}");
      const size = encodeAfter(aiLog().int("quota", round).string("zz", "v"), stored);
      if (keys.includes("quota") || keys.includes("zz")) {
        expect(size).toBe(-1);
        continue;
      }
      expect(size).toBeGreaterThan(0);
      const back = readBack(encodedText());
      expect(back.keys.length).toBe(keys.length + 2);
      for (let k = 0; k < keys.length; k++) expect(back.get(keys[k])).not.toBeNull();
      expect(back.get("quota")!.num).toBe(<f64>round);
      expect(back.get("zz")!.text).toBe("v");
    }
  });

  it("grows past its buffer and writes the same after", () => {
    const long = "é".repeat(5000);
    expect(readBack(encodeAlone(aiLog().string("k", long))).get("k")!.text).toBe(long);
    expect(encodeAlone(aiLog().int("k", 1))).toBe(storedForm('{"k":1}'));
  });
});
