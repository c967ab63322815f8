/**
 * The stats_tags of Higress's gateway bootstrap that label AI metrics, and Envoy's tag extraction
 * with them. One list: the host's /stats/prometheus (prometheus.ts) and the generated
 * envoy/envoy.yaml (scripts/gen-envoy.ts, `stats_config.stats_tags`) both use it, and
 * tests/static/stack.test.ts holds them equal.
 *
 * Source: higress-group/istio `tools/packaging/common/higress_envoy_bootstrap.json`, whose
 * `stats_config` (`use_all_default_tags: false`) also tags Envoy's own stats (wasm runtime,
 * listener, cluster, ...); only these four apply to a plugin's `wasmcustom.` stats.
 */

export interface StatsTag {
  tag_name: string;
  regex: string;
}

export const AI_STATS_TAGS: readonly StatsTag[] = [
  { tag_name: "ai_route", regex: "^wasmcustom\\.route\\.((.*?)\\.)upstream" },
  { tag_name: "ai_cluster", regex: "^wasmcustom\\..*?\\.upstream\\.((.*?)\\.)model" },
  { tag_name: "ai_model", regex: "^wasmcustom\\..*?\\.model\\.((.*?)\\.)consumer" },
  { tag_name: "ai_consumer", regex: "^wasmcustom\\..*?\\.consumer\\.((.*?)\\.)metric" },
];

export interface TaggedName {
  /** The name with every tag's matched part removed: Envoy's tag-extracted name. */
  name: string;
  tags: Array<[string, string]>;
}

// Envoy's default regex engine for stats_tags is std::regex (ECMAScript), so JavaScript's RegExp
// matches the same way, lazy quantifiers included.
const compiled = AI_STATS_TAGS.map((t) => ({ name: t.tag_name, regex: new RegExp(t.regex, "d") }));

/**
 * Tags `name` as Envoy's TagProducerImpl does (envoyproxy/envoy source/common/stats/
 * tag_producer_impl.cc, tag_extractor_impl.cc): every extractor searches the whole original name
 * (not what an earlier one left); on a match the first capture group is the part removed and the
 * second, when there is one, the tag's value (else the first). The removed parts are cut out
 * together at the end, and tags are listed in the order of the stats_tags.
 */
export function extractTags(name: string): TaggedName {
  const tags: Array<[string, string]> = [];
  const removed: Array<[number, number]> = [];
  for (const { name: tag, regex } of compiled) {
    const match = regex.exec(name);
    if (!match || match.indices?.[1] === undefined) continue;
    tags.push([tag, match[2] ?? match[1]]);
    removed.push(match.indices[1]);
  }
  let out = "";
  let at = 0;
  for (const [start, end] of removed.sort((a, b) => a[0] - b[0])) {
    if (start > at) out += name.slice(at, start);
    at = Math.max(at, end);
  }
  return { name: out + name.slice(at), tags };
}
