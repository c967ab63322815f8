import { parseKeyAuthConfig } from "../../plugins/key-auth/config";

/** [case, config JSON, expected error ("" = accepted)] */
const CASES: Array<Array<string>> = [
  ["walkthrough config", '{"keys":["x-api-key"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}]}', ""],
  ["keys as a lone string", '{"keys":"apikey","in_query":true,"consumers":[{"name":"a","credential":"k1"}]}', ""],
  ["several credentials per consumer", '{"keys":["k"],"in_header":"true","consumers":[{"name":"a","credential":"k1","credentials":["k2","k3"]}]}', ""],
  ["empty object", "{}", "key-auth: keys is required"],
  ["not JSON", "{keys", "key-auth: configuration is not valid JSON: unexpected character 'k' at offset 1"],
  ["keys missing", '{"consumers":[{"name":"a","credential":"k1"}]}', "key-auth: keys is required"],
  ["keys empty", '{"keys":[],"consumers":[{"name":"a","credential":"k1"}]}', "key-auth: keys cannot be empty"],
  ["keys wrong type", '{"keys":5,"consumers":[]}', "key-auth: keys must be a list of strings, got 5"],
  ["both sources off", '{"keys":["k"],"in_query":false,"in_header":false,"consumers":[{"name":"a","credential":"k1"}]}', "key-auth: in_header or in_query must be true, got in_header false and in_query false"],
  ["both sources absent (K2)", '{"keys":["k"],"consumers":[{"name":"a","credential":"k1"}]}', "key-auth: in_header or in_query must be true, got in_header absent and in_query absent"],
  ["one source false, the other absent", '{"keys":["k"],"in_query":false,"consumers":[{"name":"a","credential":"k1"}]}', "key-auth: in_header or in_query must be true, got in_header absent and in_query false"],
  ["a source flag of the wrong type", '{"keys":["k"],"in_header":"yes","consumers":[{"name":"a","credential":"k1"}]}', 'key-auth: in_header must be true or false, got "yes"'],
  ["consumers missing", '{"keys":["k"],"in_header":true}', "key-auth: consumers is required"],
  ["consumers empty", '{"keys":["k"],"in_header":true,"consumers":[]}', "key-auth: consumers cannot be empty"],
  ["consumer without name", '{"keys":["k"],"in_header":true,"consumers":[{"credential":"k1"}]}', "key-auth: consumer name is required at consumers[0].name"],
  ["consumer name with CR LF (it is sent as X-Mse-Consumer)", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a\\r\\nx-evil: 1","credential":"k1"}]}', 'key-auth: consumers[0].name must be a valid header value (no control characters such as CR, LF or NUL), got "a\\r\\nx-evil: 1"'],
  ["consumer name with NUL", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a\\u0000","credential":"k1"}]}', 'key-auth: consumers[0].name must be a valid header value (no control characters such as CR, LF or NUL), got "a\\u0000"'],
  ["consumer name with a tab and UTF-8", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a\\tb é","credential":"k1"}]}', ""],
  ["consumer without credential", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a"}]}', "key-auth: consumer credential is required at consumers[0].credential"],
  ["credential of the wrong type", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":42}]}', "key-auth: consumers[0].credential must be a string, got 42"],
  ["duplicate credential, not echoed", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"s3cret"},{"name":"b","credentials":["s3cret"]}]}', "key-auth: duplicate consumer credential at consumers[1].credentials[0] (also at consumers[0].credential)"],
  ["rule without allow", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"_match_route_":["r"]}]}', "key-auth: allow is required at _rules_[0].allow"],
  ["rule with empty allow", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"_match_route_":["r"],"allow":[]}]}', "key-auth: allow cannot be empty at _rules_[0].allow"],
  ["rule without match key", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"allow":["a"]}]}', "key-auth: there is at least one of  '_match_route_', '_match_domain_', '_match_service_' and '_match_route_prefix_' can present in configuration."],
  ["bad global with rules fails (K8)", '{"keys":[],"consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"_match_route_":["r"],"allow":["a"]}]}', "key-auth: keys cannot be empty"],
  ["rules without a global config", '{"_rules_":[{"_match_route_":["r"],"allow":["a"]}]}', "key-auth: keys is required (a rule needs the global keys and consumers) (in _rules_[0])"],
];

describe("key-auth configuration", () => {
  it("accepts what Higress accepts and names the field of every rejection", () => {
    for (let i = 0; i < CASES.length; i++) {
      const c = CASES[i];
      const parsed = parseKeyAuthConfig(c[1]);
      expect(parsed.reader.error).toBe(c[2], c[0]);
      expect(parsed.rules === null).toBe(c[2].length > 0, c[0]);
    }
  });

  it("reads a key source only when its flag is true (K2) and keeps global_auth unset apart from false", () => {
    const config = parseKeyAuthConfig('{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}]}').rules!.global!;
    expect(config.inHeader).toBe(true);
    expect(config.inQuery).toBe(false);
    const query = parseKeyAuthConfig('{"keys":["k"],"in_query":1,"in_header":false,"consumers":[{"name":"a","credential":"k1"}]}').rules!.global!;
    expect(query.inHeader).toBe(false);
    expect(query.inQuery).toBe(true);
    expect(config.globalAuth).toBe(-1);
    expect(config.hideCredentials).toBe(false);
  });

  it("gives rules the global keys and consumers with their own allow list", () => {
    const rules = parseKeyAuthConfig('{"keys":["k"],"in_header":true,"global_auth":"true","consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"_match_domain_":["*.x"],"allow":["a"]}]}').rules!;
    expect(rules.global!.globalAuth).toBe(1);
    const rule = rules.rules[0].config;
    expect(rule.keys[0]).toBe("k");
    expect(rule.credentials.get("k1")).toBe("a");
    expect(rule.allow![0]).toBe("a");
  });

  it("warns about unknown keys instead of failing (G7)", () => {
    const parsed = parseKeyAuthConfig('{"keys":["k"],"in_header":true,"consumer":[],"consumers":[{"name":"a","credential":"k1","nmae":"x"}]}');
    expect(parsed.reader.failed).toBe(false);
    expect(parsed.reader.warnings.join("|")).toBe("key-auth: unknown key 'nmae' at consumers[0].nmae ignored|key-auth: unknown key 'consumer' at consumer ignored");
  });
});
