import { parseKeyAuthConfig } from "../../plugins/key-auth/config";

/** [case, config JSON, expected error ("" = accepted)] */
const CASES: Array<Array<string>> = [
  ["walkthrough config", '{"keys":["x-api-key"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}]}', ""],
  ["keys as a lone string", '{"keys":"apikey","in_query":true,"consumers":[{"name":"a","credential":"k1"}]}', ""],
  ["several credentials per consumer", '{"keys":["k"],"in_header":"true","consumers":[{"name":"a","credential":"k1","credentials":["k2","k3"]}]}', ""],
  ["empty object", "{}", "key-auth: consumers is required"],
  ["not JSON", "{keys", "key-auth: configuration is not valid JSON: unexpected character 'k' at offset 1"],
  ["keys missing", '{"consumers":[{"name":"a","credential":"k1"}]}', "key-auth: keys is required (consumers[0] has no keys of its own)"],
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
  ["rule with empty allow (the console, auth on and nobody chosen)", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"_match_route_":["r"],"allow":[]}]}', ""],
  ["rule without match key", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"allow":["a"]}]}', "key-auth: there is at least one of  '_match_route_', '_match_domain_', '_match_service_' and '_match_route_prefix_' can present in configuration."],
  ["bad global with rules fails (K8)", '{"keys":[],"consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"_match_route_":["r"],"allow":["a"]}]}', "key-auth: keys cannot be empty"],
  ["rules without a global config", '{"_rules_":[{"_match_route_":["r"],"allow":["a"]}]}', "key-auth: consumers is required (a rule needs the global consumers) (in _rules_[0])"],
  // What the Higress console writes (KeyAuthCredentialHandler): sources per consumer, a placeholder global key.
  ["the console's global config with header, Bearer and query consumers", '{"global_auth":false,"allow":[],"keys":["x-higress-dummy-key"],"consumers":[{"name":"h","keys":["X-API-KEY"],"in_header":true,"in_query":false,"credentials":["k1"]},{"name":"b","keys":["Authorization"],"in_header":true,"in_query":false,"credentials":["Bearer k2"]},{"name":"q","keys":["api_key"],"in_header":false,"in_query":true,"credentials":["k3","k4"]}]}', ""],
  ["the console's global config before its first consumer", '{"global_auth":false,"allow":[],"keys":["x-higress-dummy-key"],"consumers":[]}', ""],
  ["no consumers while the global config authenticates", '{"global_auth":true,"keys":["k"],"in_header":true,"consumers":[]}', "key-auth: consumers cannot be empty"],
  ["global keys absent when every consumer has its own", '{"global_auth":false,"consumers":[{"name":"a","keys":["k"],"in_query":true,"credential":"k1"}]}', ""],
  ["consumer keys as a lone string", '{"consumers":[{"name":"a","keys":"k","in_header":true,"credential":"k1"}]}', ""],
  ["a consumer falling back to the placeholder", '{"keys":["x-higress-dummy-key"],"in_header":true,"consumers":[{"name":"a","keys":["k"],"credential":"k1"},{"name":"b","credential":"k2"}]}', "key-auth: consumers[1].keys is required: the global keys are only the console's placeholder x-higress-dummy-key"],
  ["consumer keys empty", '{"keys":["k"],"in_header":true,"consumers":[{"name":"a","keys":[],"credential":"k1"}]}', "key-auth: consumers[0].keys cannot be empty"],
  ["consumer key empty", '{"in_header":true,"consumers":[{"name":"a","keys":["k",""],"credential":"k1"}]}', "key-auth: consumers[0].keys[1] must be a non-empty string"],
  ["consumer keys of the wrong type", '{"in_header":true,"consumers":[{"name":"a","keys":[1],"credential":"k1"}]}', "key-auth: consumers[0].keys[0] must be a string, got 1"],
  ["consumer source flag of the wrong type", '{"consumers":[{"name":"a","keys":["k"],"in_query":"yes","credential":"k1"}]}', 'key-auth: consumers[0].in_query must be true or false, got "yes"'],
  ["consumer flags both false", '{"in_header":true,"consumers":[{"name":"a","keys":["k"],"in_header":false,"in_query":false,"credential":"k1"}]}', "key-auth: consumers[0].in_header or consumers[0].in_query must be true, got consumers[0].in_header false and consumers[0].in_query false"],
  ["consumer flag false, the global one absent", '{"keys":["k"],"consumers":[{"name":"a","in_header":false,"credential":"k1"}]}', "key-auth: consumers[0].in_header or consumers[0].in_query must be true, got consumers[0].in_header false and in_query absent"],
  ["consumer flags fall back to the global ones", '{"in_query":true,"consumers":[{"name":"a","keys":["k"],"credential":"k1"}]}', ""],
  ["one credential on a header and on a query parameter", '{"consumers":[{"name":"a","keys":["x-api-key"],"in_header":true,"credentials":["s"]},{"name":"b","keys":["apikey"],"in_query":true,"credentials":["s"]}]}', ""],
  ["one credential on two header names", '{"consumers":[{"name":"a","keys":["x-api-key"],"in_header":true,"credentials":["s"]},{"name":"b","keys":["authorization"],"in_header":true,"credentials":["s"]}]}', ""],
  ["one credential where one header reaches both", '{"keys":["X-Api-Key"],"in_header":true,"consumers":[{"name":"a","credential":"s"},{"name":"b","keys":["x-api-key","token"],"in_header":true,"credentials":["s"]}]}', "key-auth: duplicate consumer credential at consumers[1].credentials[0] (also at consumers[0].credential)"],
  ["one credential where one query name reaches both", '{"consumers":[{"name":"a","keys":["k"],"in_query":true,"credentials":["s"]},{"name":"b","keys":["k"],"in_header":true,"in_query":true,"credentials":["s"]}]}', "key-auth: duplicate consumer credential at consumers[1].credentials[0] (also at consumers[0].credentials[0])"],
  ["a global allow list (it restricts nothing in Higress)", '{"allow":["a"],"keys":["k"],"in_header":true,"consumers":[{"name":"a","credential":"k1"}]}', "key-auth: allow must be empty in the global config (it applies in _rules_ only), got 1 names"],
  ["global keys null", '{"keys":null,"in_header":true,"consumers":[{"name":"a","credential":"k1"}]}', "key-auth: keys cannot be empty"],
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
    expect(config.groups[0].inHeader).toBe(true);
    expect(config.groups[0].inQuery).toBe(false);
    const query = parseKeyAuthConfig('{"keys":["k"],"in_query":1,"in_header":false,"consumers":[{"name":"a","credential":"k1"}]}').rules!.global!;
    expect(query.groups[0].inHeader).toBe(false);
    expect(query.groups[0].inQuery).toBe(true);
    expect(config.globalAuth).toBe(-1);
    expect(config.hideCredentials).toBe(false);
  });

  it("gives rules the global keys and consumers with their own allow list", () => {
    const rules = parseKeyAuthConfig('{"keys":["k"],"in_header":true,"global_auth":"true","consumers":[{"name":"a","credential":"k1"}],"_rules_":[{"_match_domain_":["*.x"],"allow":["a"]}]}').rules!;
    expect(rules.global!.globalAuth).toBe(1);
    const rule = rules.rules[0].config;
    expect(rule.groups[0].keys[0]).toBe("k");
    expect(rule.names[rule.groups[0].credentials.get("k1")]).toBe("a");
    expect(rule.allow![0]).toBe("a");
  });

  it("groups consumers by the sources they read, falling back to the global ones field by field", () => {
    const config = parseKeyAuthConfig('{"keys":["x-api-key"],"in_header":true,"consumers":[' +
      '{"name":"a","credential":"k1"},' +
      '{"name":"b","keys":["X-API-KEY"],"credentials":["k2"]},' +
      '{"name":"c","keys":["apikey"],"in_header":false,"in_query":true,"credentials":["k3"]},' +
      '{"name":"d","in_query":true,"credentials":["k4"]},' +
      '{"name":"e","keys":["x-api-key","x-api-key"],"in_header":true,"in_query":false,"credentials":["k5"]}]}').rules!.global!;
    // a, b and e read the header x-api-key only (names are case-insensitive, repeats are one), c the query, d both.
    expect(config.groups.length).toBe(3);
    expect(config.groups[0].credentials.size).toBe(3);
    expect(config.groups[0].credentials.get("k5")).toBe(4);
    expect(config.groups[1].inQuery && !config.groups[1].inHeader).toBe(true);
    expect(config.groups[2].inQuery && config.groups[2].inHeader).toBe(true);
    expect(config.readsHeaders && config.readsQuery).toBe(true);
    expect(config.names.join(",")).toBe("a,b,c,d,e");
  });

  it("warns about unknown keys instead of failing (G7)", () => {
    const parsed = parseKeyAuthConfig('{"keys":["k"],"in_header":true,"consumer":[],"consumers":[{"name":"a","credential":"k1","nmae":"x"}]}');
    expect(parsed.reader.failed).toBe(false);
    expect(parsed.reader.warnings.join("|")).toBe("key-auth: unknown key 'nmae' at consumers[0].nmae ignored|key-auth: unknown key 'consumer' at consumer ignored");
  });
});
