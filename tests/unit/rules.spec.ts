import { parseJson, ConfigReader, ConfigObject } from "../../shared/json/index";
import { parseRules, ConfigParser, RuleOptions, RuleSet, MatchCategory, hostOf, DomainPattern, serviceMatches, NO_MATCH_KEY_ERROR } from "../../shared/rules/index";

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
    if (name == "huge") {
      fields.reader.refuse("name is a value Higress takes and we refuse");
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

/** `host` as hostOf gives it. */
function domainMatches(pattern: string, host: string): bool {
  return new DomainPattern(pattern).matches(host);
}

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
    expect(reader.warnings.join("|")).toBe("test: global config ignored (as Higress, with _rules_): name is required");
    expect(pick("a", "r1", "")).toBe("r");
    expect(pick("a", "r2", "")).toBe("none");
  });

  it("fails on a global refused beyond Higress's own checks even with rules (it cannot be dropped silently)", () => {
    expect(parse('{"name":"huge","_rules_":[{"_match_route_":["r1"],"name":"r"}]}').error).toBe("test: name is a value Higress takes and we refuse");
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
  it("takes the host of an authority: port stripped (not inside an IPv6 literal), A-Z folded, trailing dot dropped", () => {
    expect(hostOf("a.com:80")).toBe("a.com");
    expect(hostOf("[::1]:8080")).toBe("[::1]");
    expect(hostOf("[::1]")).toBe("[::1]");
    expect(hostOf("[::ABCD]:443")).toBe("[::abcd]");
    expect(hostOf("API.EXAMPLE.COM")).toBe("api.example.com");
    expect(hostOf("Api.Example.Com:443")).toBe("api.example.com");
    expect(hostOf("api.example.com.")).toBe("api.example.com");
    expect(hostOf("Api.Example.Com.:8443")).toBe("api.example.com");
    expect(hostOf("a.com:")).toBe("a.com");
    expect(hostOf(".")).toBe(".");
    expect(hostOf("")).toBe("");
  });

  it("returns a host already lower-case without port as the same string, unallocated", () => {
    const host = "api.example.com";
    expect(changetype<usize>(hostOf(host))).toBe(changetype<usize>(host));
    const ip = "[::1]";
    expect(changetype<usize>(hostOf(ip))).toBe(changetype<usize>(ip));
  });

  it("matches domains by suffix, prefix, exact and any, the pattern folded to lower case", () => {
    expect(domainMatches("*.example.com", "a.example.com")).toBe(true);
    expect(domainMatches("*.example.com", "example.com")).toBe(false);
    expect(domainMatches("*.example.com", "com")).toBe(false);
    expect(domainMatches("*.Example.COM", "a.example.com")).toBe(true);
    expect(domainMatches("*", "anything")).toBe(true);
    expect(domainMatches("*", "")).toBe(true);
    expect(domainMatches("api.*", "api.test")).toBe(true);
    expect(domainMatches("Api.*", "api.test")).toBe(true);
    expect(domainMatches("api.*", "ap")).toBe(false);
    expect(domainMatches("api.*", "xapi.test")).toBe(false);
    expect(domainMatches("exact.com", "exact.com")).toBe(true);
    expect(domainMatches("EXACT.com", "exact.com")).toBe(true);
    expect(domainMatches("exact.com", "exact.co")).toBe(false);
  });

  it("matches _match_domain_ whatever the case and port of the request or the pattern (G9)", () => {
    parse('{"_rules_":[{"_match_domain_":["api.example.com"],"name":"exact"},{"_match_domain_":["*.Example.ORG"],"name":"suffix"},{"_match_domain_":["Admin.*"],"name":"prefix"},{"_match_domain_":["[::1]"],"name":"ip"}],"name":"g"}');
    const exact = ["api.example.com", "API.EXAMPLE.COM", "Api.Example.Com:443", "api.example.com:8080", "API.example.com.", "api.example.com.:443"];
    for (let i = 0; i < exact.length; i++) expect(pick(exact[i], "", "")).toBe("exact", exact[i]);
    const suffix = ["a.example.org", "A.EXAMPLE.ORG:80", "x.y.Example.Org"];
    for (let i = 0; i < suffix.length; i++) expect(pick(suffix[i], "", "")).toBe("suffix", suffix[i]);
    expect(pick("ADMIN.internal:9000", "", "")).toBe("prefix");
    expect(pick("[::1]:8080", "", "")).toBe("ip");
    expect(pick("example.org", "", "")).toBe("g");
    expect(pick("api.example.com.evil", "", "")).toBe("g");
    expect(pick("apiXexample.com", "", "")).toBe("g");
  });

  it("matches services by fqdn, or fqdn and port", () => {
    expect(serviceMatches("qwen.dns", "outbound|443||qwen.dns")).toBe(true);
    expect(serviceMatches("qwen.dns:443", "outbound|443||qwen.dns")).toBe(true);
    expect(serviceMatches("qwen.dns:80", "outbound|443||qwen.dns")).toBe(false);
    expect(serviceMatches("qwen.dns:", "outbound|443||qwen.dns")).toBe(false);
    expect(serviceMatches("qwen.dns", "qwen.dns")).toBe(false);
  });
});
