/** What Higress gives a plugin from a WasmPlugin resource, for tests that check shipped or documented resources. */

/** The plugin's configuration: defaultConfig (unless defaultConfigDisable) plus one `_rules_` entry per matchRule. */
export function wasmPluginConfig(spec: any): Record<string, unknown> {
  const json: Record<string, unknown> = spec.defaultConfigDisable ? {} : { ...spec.defaultConfig };
  json._rules_ = (spec.matchRules ?? []).map((r: any) => ({
    ...r.config,
    ...(r.ingress && { _match_route_: r.ingress }),
    ...(r.domain && { _match_domain_: r.domain }),
  }));
  return json;
}
