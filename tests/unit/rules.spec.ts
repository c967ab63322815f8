import { parseJson, ConfigReader, ConfigObject } from "../../shared/json/index";
import { parseRules, ConfigParser, RuleOptions, RuleSet, MatchCategory, stripPort, domainMatches, serviceMatches, NO_MATCH_KEY_ERROR } from "../../shared/rules/index";

class Named {
  constructor(public name: string, public inherited: string) {}
}

/** A stand-in plugin config: requires `name`; in override style copies the global's name. */
class NamedParser extends ConfigParser<Named> {
  parse(fields: ConfigObject, global: Named | null): Named | null {
    const name = fields.string("name");
    if (name === null) {
      fields.reader.fail("name is required");
      return null;
    }
    return new Named(name, global === null ? "" : global.name);
  }
}

function parse(json: string, overrideStyle: bool = false, strict: bool = false): ConfigReader {
  const reader = new ConfigReader("test");
  const options = new RuleOptions();
  options.overrideStyle = overrideStyle;
  options.strictGlobal = strict;
  lastSet = parseRules<Named>(reader, parseJson(json).value!, new NamedParser(), options);
  return reader;
}

let lastSet: RuleSet<Named> | null = null;

function pick(authority: string, route: string, cluster: string): string {
  const config = lastSet!.select(authority, route, cluster);
  return config === null ? "none" : config.name;
}

describe("parseRules", () => {
  it("takes a global config alone", () => {
    expect(parse('{"name":"g"}').failed).toBe(false);
    expect(pick("a", "r", "c")).toBe("g");
  });

  it("fails without rules or a valid global, in Higress's words", () => {
    expect(parse('{"_rules_":[]}').error).toBe("test: parse config failed, no valid rules; global config parse error:<nil>");
    expect(parse("{}").error).toBe("test: name is required");
  });

  it("needs a match key in every rule, double space included", () => {
    expect(parse('{"_rules_":[{"name":"r"}]}').error).toBe("test: " + NO_MATCH_KEY_ERROR);
  });

  it("keeps going without a global when the global part fails but rules exist (Higress)", () => {
    const reader = parse('{"other":1,"_rules_":[{"_match_route_":["r1"],"name":"r"}]}');
    expect(reader.failed).toBe(false);
    expect(pick("a", "r1", "")).toBe("r");
    expect(pick("a", "r2", "")).toBe("none");
  });

  it("fails on a bad global even with rules when strict (decision K8)", () => {
    expect(parse('{"other":1,"_rules_":[{"_match_route_":["r1"],"name":"r"}]}', false, true).error).toBe("test: name is required");
  });

  it("passes the global config to override-style rules", () => {
    parse('{"name":"g","_rules_":[{"_match_route_":["r1"],"name":"r"}]}', true);
    expect(lastSet!.rules[0].config.inherited).toBe("g");
  });

  it("picks the category by priority and ignores lower-priority keys", () => {
    parse('{"_rules_":[{"_match_route_":["r1"],"_match_domain_":["*"],"name":"a"},{"_match_domain_":["x.com"],"_match_service_":["s"],"name":"b"},{"_match_route_":["r2"],"_match_service_":["qwen.dns"],"name":"c"},{"_match_route_prefix_":["api-"],"name":"d"}]}');
    expect(lastSet!.rules[0].category).toBe(MatchCategory.Route);
    expect(lastSet!.rules[1].category).toBe(MatchCategory.Host);
    expect(lastSet!.rules[2].category).toBe(MatchCategory.RouteAndService);
    expect(lastSet!.rules[3].category).toBe(MatchCategory.RoutePrefix);
    expect(pick("y.com", "r9", "")).toBe("none");
    expect(pick("x.com:8080", "r9", "")).toBe("b");
    expect(pick("any", "r1", "")).toBe("a");
    expect(pick("any", "r2", "outbound|443||qwen.dns")).toBe("c");
    expect(pick("any", "r2", "outbound|443||other.dns")).toBe("none");
    expect(pick("any", "api-x", "")).toBe("d");
  });

  it("warns about unknown keys and reports a rule error with its path", () => {
    const reader = parse('{"name":"g","typo":1}');
    expect(reader.warnings[0]).toBe("test: unknown key 'typo' at typo ignored");
    expect(parse('{"_rules_":[{"_match_route_":"r"}]}').error).toBe('test: _rules_[0]._match_route_ must be a list of strings, got "r"');
  });
});

describe("matching", () => {
  it("strips a port but not an IPv6 literal", () => {
    expect(stripPort("a.com:80")).toBe("a.com");
    expect(stripPort("[::1]:80")).toBe("[::1]");
    expect(stripPort("[::1]")).toBe("[::1]");
  });

  it("matches domains by suffix, prefix, exact and any", () => {
    expect(domainMatches("*.example.com", "a.example.com")).toBe(true);
    expect(domainMatches("*.example.com", "example.com")).toBe(false);
    expect(domainMatches("*", "anything")).toBe(true);
    expect(domainMatches("api.*", "api.test")).toBe(true);
    expect(domainMatches("Exact.com", "exact.com")).toBe(false);
  });

  it("matches services by fqdn, or fqdn and port", () => {
    expect(serviceMatches("qwen.dns", "outbound|443||qwen.dns")).toBe(true);
    expect(serviceMatches("qwen.dns:443", "outbound|443||qwen.dns")).toBe(true);
    expect(serviceMatches("qwen.dns:80", "outbound|443||qwen.dns")).toBe(false);
    expect(serviceMatches("qwen.dns:", "outbound|443||qwen.dns")).toBe(false);
    expect(serviceMatches("qwen.dns", "qwen.dns")).toBe(false);
  });
});
