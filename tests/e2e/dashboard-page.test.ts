/**
 * Issue 17: `npm start` serves a live dashboard page on its stats port, and a person reading it in
 * a browser sees what the walkthrough's clients were told. npm start runs on a password-protected
 * redis-server of the test's, in database 2 (REDIS_URL), so the page must read Redis as the plugins
 * do; the page is opened in headless Chromium before the session, then every panel is read.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { runNpmStart } from "../support/npm-start.ts";
import { startRedis } from "../support/redis.ts";
import { openDashboard } from "../support/dashboard-page.ts";
import { walkthroughSession, SESSION_MODEL, SESSION_QUOTA } from "../support/walkthrough-session.ts";
import { freePort, request, waitFor } from "../support/net.ts";
import { startUpstream } from "../support/upstream.ts";
import { pluginWasm } from "../support/paths.ts";
import { startGateway } from "../../host/gateway.ts";
import { loadWalkthrough } from "../../scripts/gen-envoy.ts";
import { sourceReply } from "../support/source-constants.ts";
import { WINDOW_NAMES, WINDOW_SECONDS } from "../../plugins/ai-token-ratelimit/keys.ts";
import { ABSENT_KEY } from "../../host/dashboard/store-panels.ts";
import {
  DASHBOARD_PATH, DATA_PATH, FIELDS, LEGEND, PANEL_IDS, PANELS, QUOTA_COLUMNS, SECTIONS, TITLE, USAGE_COLUMNS, WINDOW_COLUMNS, panel,
} from "../../host/dashboard/panels.ts";

const DATABASE = 2;
const RATE_LIMITED = sourceReply("plugins/ai-token-ratelimit/errors.ts", "RATE_LIMITED");
const NO_QUOTA = sourceReply("plugins/ai-quota/errors.ts", "NO_QUOTA");

/** The walkthrough's rate limit: its one key's token_per_minute, and that window in seconds. */
function walkthroughLimit(): { tokens: number; window: number } {
  const rule = (loadWalkthrough().plugins.find((p) => p.name === "ai-token-ratelimit")!.config as any)._rules_[0];
  const [name, tokens] = Object.entries(rule.rule_items[0].limit_keys[0]).find(([k]) => WINDOW_NAMES.includes(k))! as [string, number];
  return { tokens, window: WINDOW_SECONDS[WINDOW_NAMES.indexOf(name)] };
}

test("npm start's dashboard page, in a real browser, shows the tokens, rejections, quota and rate-limit window the walkthrough's clients were told", async () => {
  const redis = await startRedis({ password: "dash-secret" });
  const start = await runNpmStart({ REDIS_URL: `redis://:dash-secret@127.0.0.1:${redis.port}/${DATABASE}` });
  const clients = async () => ((await redis.client.command("CLIENT", "LIST")) as string).trim().split("\n").length;
  try {
    assert.match(start.dashboard, new RegExp(`^http://127\\.0\\.0\\.1:\\d+${DASHBOARD_PATH}$`));
    // Nobody looked yet: no connection but the test's own (npm start's check has closed).
    await waitFor(async () => (await clients()) === 1, 3000);

    const dash = await openDashboard(start.dashboard);
    try {
      const { page, number, text } = dash;
      // The first answer is the graphs' start: what follows is counted as it happens.
      await dash.answerAfter(0);
      assert.equal(await clients(), 2, "the page's one connection, opened when the page asked");
      assert.equal(await page.title(), TITLE);
      assert.deepEqual(await page.locator("h2").allTextContents(), SECTIONS.map((s) => s.title));
      assert.deepEqual(await page.locator("[data-panel] h3").allTextContents(), PANELS.map((p) => p.title));

      const told = await walkthroughSession(start);
      await dash.answerAfter(told.endedAt);
      const { prompt, completion, total } = told.usage;
      const usage = { [USAGE_COLUMNS.input]: prompt, [USAGE_COLUMNS.output]: completion, [USAGE_COLUMNS.total]: total };

      // Totals since the gateway started: by consumer, model and provider (the cluster, no Higress service name here).
      for (const [id, key] of [[PANEL_IDS.usageByConsumer, "aliyun-user1"], [PANEL_IDS.usageByModel, SESSION_MODEL], [PANEL_IDS.usageByProvider, "llm"]]) {
        for (const [column, value] of Object.entries(usage)) assert.equal(await number(id, key, column), value, `${id} ${key} ${column}`);
      }
      for (const id of [PANEL_IDS.quotaCharged, PANEL_IDS.ratelimitCharged]) {
        assert.equal(await number(id, "aliyun-user1", USAGE_COLUMNS.input), prompt, id);
        assert.equal(await number(id, "aliyun-user1", USAGE_COLUMNS.output), completion, id);
        assert.equal(await number(id, "aliyun-user1", USAGE_COLUMNS.estimated), 0, id);
      }
      // The graphs: what each rate added up to while the page watched.
      for (const [key, value] of Object.entries(usage)) assert.equal(await number(PANEL_IDS.tokensPerSecond, key, LEGEND.increase), value, `tokens per second, ${key}`);
      assert.equal(await number(PANEL_IDS.inputByModel, SESSION_MODEL, LEGEND.increase), prompt);
      assert.equal(await number(PANEL_IDS.outputByModel, SESSION_MODEL, LEGEND.increase), completion);
      // One streamed answer: both means are its own durations, within what the client waited.
      for (const id of [PANEL_IDS.firstTokenLatency, PANEL_IDS.requestDuration]) {
        const mean = await number(id, SESSION_MODEL, LEGEND.mean);
        assert.ok(mean >= 0 && mean <= told.chatMs, `${id}: ${mean} ms, the client waited ${told.chatMs} ms`);
      }
      assert.ok(await number(PANEL_IDS.firstTokenLatency, SESSION_MODEL, LEGEND.mean) <= await number(PANEL_IDS.requestDuration, SESSION_MODEL, LEGEND.mean));

      // Rejections: one 429 for aliyun-user1, one 403 for aliyun-user2, none of the others (each reason is shown by its status).
      for (const s of panel(PANEL_IDS.rejectionsByReason, "bars").series) {
        const status = Number(s.legend.split(" ")[0]);
        assert.equal(await number(PANEL_IDS.rejectionsByReason, s.legend, FIELDS.value), status === RATE_LIMITED.status || status === NO_QUOTA.status ? 1 : 0, s.legend);
      }
      const byConsumer = await page.locator(`[data-panel="${PANEL_IDS.rejectionsByConsumer}"] tbody tr`).evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key")));
      assert.deepEqual(byConsumer.map((k) => k!.split(" ")[0]).sort(), ["aliyun-user1", "aliyun-user2"]);
      for (const key of byConsumer) assert.equal(await number(PANEL_IDS.rejectionsByConsumer, key!, LEGEND.increase), 1, key!);
      for (const id of [PANEL_IDS.storeFailures, PANEL_IDS.chargeFailures]) assert.equal(await page.locator(`[data-panel="${id}"] [data-column]`).count(), 0, `${id}: none counted`);

      // Redis now: the quota the admin was told, and aliyun-user2's none.
      assert.equal(told.quotaLeft, SESSION_QUOTA - total);
      assert.equal(await number(PANEL_IDS.remainingQuota, "aliyun-user1", QUOTA_COLUMNS.remaining), told.quotaLeft);
      assert.equal(await number(PANEL_IDS.remainingQuota, "aliyun-user2", QUOTA_COLUMNS.remaining), 0);
      const prefix = (loadWalkthrough().plugins.find((p) => p.name === "ai-quota")!.config as any)._rules_[0].redis_key_prefix;
      assert.equal(await text(PANEL_IDS.remainingQuota, "aliyun-user1", QUOTA_COLUMNS.key), `${prefix}aliyun-user1`);
      assert.equal(await text(PANEL_IDS.remainingQuota, "aliyun-user2", QUOTA_COLUMNS.key), ABSENT_KEY);
      // aliyun-user1's window: its key's counter, shown as the consumer, with the reset the 429 told.
      const limit = walkthroughLimit();
      const windows = PANEL_IDS.rateLimitWindows;
      assert.equal(await number(windows, "aliyun-user1", WINDOW_COLUMNS.window), limit.window);
      assert.equal(await number(windows, "aliyun-user1", WINDOW_COLUMNS.used), total);
      assert.equal(await number(windows, "aliyun-user1", WINDOW_COLUMNS.limit), limit.tokens);
      assert.equal(await number(windows, "aliyun-user1", WINDOW_COLUMNS.remaining), Math.max(0, limit.tokens - total));
      // A few seconds on, the window has counted down from what the 429 said.
      await dash.answerAfter(told.rejectedAt + 3000);
      const shownAt = Number(await page.locator("#status").getAttribute("data-time"));
      const reset = await number(windows, "aliyun-user1", WINDOW_COLUMNS.reset);
      const expected = told.reset - (shownAt - told.rejectedAt) / 1000;
      assert.ok(Math.abs(reset - expected) <= 1.5, `resets in ${reset} s; the 429 said ${told.reset} s, ${(shownAt - told.rejectedAt) / 1000} s before`);
      assert.doesNotMatch(await page.locator("main").innerText(), new RegExp(start.key("aliyun-user1")), "an API key is never shown");
      assert.equal(await text(windows, "aliyun-user1", WINDOW_COLUMNS.rule), "default_rule");

      // The data the page drew, for anyone else to read: the same numbers under the documented names.
      const data = JSON.parse((await request(new URL(DATA_PATH, start.dashboard).href)).body);
      const user1 = data[FIELDS.panels][PANEL_IDS.usageByConsumer][FIELDS.rows].find((r: any) => r[FIELDS.key] === "aliyun-user1");
      assert.deepEqual(user1[FIELDS.values], usage);
    } finally {
      await dash.close();
    }
  } finally {
    await start.stop();
    await redis.stop();
  }
});

test("a Redis that cannot answer is named in its store panels, the metric panels are drawn all the same; another method is 405, another path 404", async () => {
  const walkthrough = loadWalkthrough();
  const upstream = await startUpstream();
  const closed = await freePort();
  const cluster = `outbound|80||${walkthrough.redis_service}`;
  const gateway = await startGateway({
    clusters: { llm: { url: upstream.url }, [cluster]: { redis: `127.0.0.1:${closed}` } },
    routes: [{ name: walkthrough.route, prefix: "/", cluster: "llm" }],
    plugins: walkthrough.plugins.map((p) => ({ name: p.name, wasm: pluginWasm(p.name), config: p.config })),
  });
  try {
    const dash = await openDashboard(`${gateway.adminUrl}${DASHBOARD_PATH}`);
    try {
      await dash.answerAfter(0);
      for (const id of [PANEL_IDS.remainingQuota, PANEL_IDS.rateLimitWindows]) {
        assert.match(await dash.page.locator(`[data-panel="${id}"] .note`).textContent() ?? "", new RegExp(`^Redis ${cluster.replaceAll("|", "\\|")} \\(127\\.0\\.0\\.1:${closed}\\): connect ECONNREFUSED`), id);
      }
      for (const s of panel(PANEL_IDS.rejectionsByReason, "bars").series) assert.equal(await dash.number(PANEL_IDS.rejectionsByReason, s.legend, FIELDS.value), 0);
    } finally {
      await dash.close();
    }
    const post = await request(`${gateway.adminUrl}${DATA_PATH}`, { body: "" });
    assert.deepEqual([post.status, post.headers.allow], [405, "GET, HEAD"]);
    const unknown = await request(`${gateway.adminUrl}${DASHBOARD_PATH}/nothing.js`);
    assert.deepEqual([unknown.status, unknown.body], [404, `no such dashboard path: ${DASHBOARD_PATH}/nothing.js (the page is ${DASHBOARD_PATH})\n`]);
  } finally {
    await gateway.close();
    await upstream.close();
  }
});
