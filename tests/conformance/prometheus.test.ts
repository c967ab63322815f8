/** The host's /stats/prometheus text: Higress's stats_tags applied as Envoy applies them, Envoy's naming, valid Prometheus text. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { renderPrometheus } from "../../host/prometheus.ts";
import { extractTags } from "../../host/stats-tags.ts";
import type { MetricSample } from "../../host/stream-api.ts";

const counter = (name: string, value: number): MetricSample => ({ name, type: "counter", value });

test("stats_tags: each extractor reads the whole name, the first group is cut out, the second is the value; dots and pipes in route and cluster stay in the value", () => {
  const tagged = extractTags("wasmcustom.route.ai-route.v1.upstream.outbound|443||llm.dns.model.qwen-max.consumer.user1.metric.quota_input_token");
  assert.equal(tagged.name, "wasmcustom.route.upstream.model.consumer.metric.quota_input_token");
  assert.deepEqual(tagged.tags, [["ai_route", "ai-route.v1"], ["ai_cluster", "outbound|443||llm.dns"], ["ai_model", "qwen-max"], ["ai_consumer", "user1"]]);
  assert.deepEqual(extractTags("wasmcustom.probe.requests"), { name: "wasmcustom.probe.requests", tags: [] });
});

test("one # TYPE line per family, its series sorted beneath it, label values escaped, counters before gauges", () => {
  const name = (route: string, consumer: string) => `wasmcustom.route.${route}.upstream.llm.model.m.consumer.${consumer}.metric.token_ratelimit_input_token`;
  const text = renderPrometheus([
    { name: "wasmcustom.probe.gauge", type: "gauge", value: 7 },
    counter(name("r", "bob"), 2),
    counter(name('a"b\\c', "alice"), 3),
    counter(name("r", "alice"), 1),
    counter("wasmcustom.9starts_with_a_digit", 1),
    counter("server.uptime", 4),
  ]);
  assert.equal(text, [
    "# TYPE envoy_server_uptime counter",
    "envoy_server_uptime{} 4",
    "",
    "# TYPE route_upstream_model_consumer_metric_token_ratelimit_input_token counter",
    'route_upstream_model_consumer_metric_token_ratelimit_input_token{ai_route="a\\"b\\\\c",ai_cluster="llm",ai_model="m",ai_consumer="alice"} 3',
    'route_upstream_model_consumer_metric_token_ratelimit_input_token{ai_route="r",ai_cluster="llm",ai_model="m",ai_consumer="alice"} 1',
    'route_upstream_model_consumer_metric_token_ratelimit_input_token{ai_route="r",ai_cluster="llm",ai_model="m",ai_consumer="bob"} 2',
    "",
    "# TYPE probe_gauge gauge",
    "probe_gauge{} 7",
    "",
    "",
  ].join("\n"));
});
