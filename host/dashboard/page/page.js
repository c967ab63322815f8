// The dashboard page: asks the gateway for its counters and Redis state every POLL_MS, keeps the
// last HISTORY_SECONDS of answers, and draws each panel of panels.js from them. Rates and means
// are computed here, between two answers, as Prometheus's rate() would between two scrapes.
import spec from "./panels.js";
import { drawChart, COLORS } from "./chart.js";

const F = spec.FIELDS;
const L = spec.LEGEND;
/** Answers received, oldest first: {time, panels}. */
const history = [];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

const integer = (v) => String(Math.round(v));
const decimal = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(2));
const shown = (v) => (v === null || v === undefined ? "–" : typeof v === "number" ? integer(v) : v);

/** Each row's values in an answer, by key. */
function rowsOf(answer, id) {
  const data = answer[F.panels][id];
  return new Map((data?.[F.rows] ?? []).map((r) => [r[F.key], r[F.values]]));
}

/** What a counter added from one answer to the next; a counter that went down started again (a restart), as Prometheus reads it. */
const added = (before, after) => (after >= before ? after - before : after);

/** For each series key of the latest answer: its points [[ms, per second]] and its increase over the history. */
function rates(id) {
  const keys = [...rowsOf(history.at(-1), id).keys()];
  return keys.map((key) => {
    const points = [];
    let increase = 0;
    for (let i = 1; i < history.length; i++) {
      // Absent before: the counter did not exist yet, so it stood at 0.
      const before = rowsOf(history[i - 1], id).get(key)?.[F.value] ?? 0;
      const after = rowsOf(history[i], id).get(key)?.[F.value] ?? 0;
      const delta = added(before, after);
      increase += delta;
      points.push([history[i][F.time], delta / ((history[i][F.time] - history[i - 1][F.time]) / 1000)]);
    }
    return { key, points, cells: { [L.last]: points.length ? decimal(points.at(-1)[1]) : "–", [L.increase]: integer(increase) } };
  });
}

/** For each series key: its points [[ms, mean over the interval or null]] and its mean since the gateway started. */
function means(id) {
  const latest = rowsOf(history.at(-1), id);
  return [...latest.keys()].map((key) => {
    const points = [];
    for (let i = 1; i < history.length; i++) {
      const a = rowsOf(history[i - 1], id).get(key) ?? { [F.sum]: 0, [F.count]: 0 };
      const b = rowsOf(history[i], id).get(key) ?? a;
      const count = added(a[F.count], b[F.count]);
      points.push([history[i][F.time], count > 0 ? added(a[F.sum], b[F.sum]) / count : null]);
    }
    const last = points.findLast(([, v]) => v !== null);
    const { [F.sum]: sum, [F.count]: count } = latest.get(key);
    return { key, points, cells: { [L.last]: last ? decimal(last[1]) : "–", [L.mean]: count > 0 ? decimal(sum / count) : "–" } };
  });
}

function graph(panel, series, columns) {
  const now = history.at(-1)[F.time];
  const chart = drawChart(series, now - spec.HISTORY_SECONDS * 1000, now, panel.unit);
  const legend = el("table", { class: "legend" }, el("thead", {}, el("tr", {}, el("th", {}, panel.unit), ...columns.map(([, title]) => el("th", {}, title)))));
  const body = el("tbody");
  series.forEach((s, i) => body.append(el("tr", { "data-key": s.key },
    el("th", {}, el("span", { class: "swatch", style: `background:${COLORS[i % COLORS.length]}` }), s.key),
    ...columns.map(([id]) => el("td", { "data-column": id }, s.cells[id])))));
  if (series.length === 0) body.append(el("tr", {}, el("td", { class: "empty", colspan: columns.length + 1 }, "No data")));
  legend.append(body);
  return [chart, legend];
}

function table(keyTitle, columns, rows) {
  const head = el("tr", {}, el("th", {}, keyTitle), ...columns.map((c) => el("th", { class: c.text ? "text" : "" }, c.title)));
  const body = el("tbody");
  for (const [key, values] of rows) {
    body.append(el("tr", { "data-key": key }, el("th", {}, key), ...columns.map((c) => el("td", { "data-column": c.id, class: c.text ? "text" : "" }, shown(values[c.id])))));
  }
  if (rows.size === 0) body.append(el("tr", {}, el("td", { class: "empty", colspan: columns.length + 1 }, "No data")));
  return [el("table", {}, el("thead", {}, head), body)];
}

function bars(rows) {
  const max = Math.max(1, ...[...rows.values()].map((v) => v[F.value]));
  return [...rows].map(([key, v]) => el("div", { class: "bar", "data-key": key }, el("span", {}, key),
    el("span", { class: "track" }, el("span", { class: "fill", style: `width:${(100 * v[F.value]) / max}%` })),
    el("span", { class: "value", "data-column": F.value }, integer(v[F.value]))));
}

function stats(rows) {
  if (rows.size === 0) return [el("p", { class: "empty" }, "None counted")];
  return [el("div", { class: "stats" }, ...[...rows].map(([key, v]) => el("div", { class: "stat", "data-key": key },
    el("span", { class: `value${v[F.value] > 0 ? " nonzero" : ""}`, "data-column": F.value }, integer(v[F.value])), el("span", {}, key))))];
}

function contents(panel) {
  const rows = rowsOf(history.at(-1), panel.id);
  switch (panel.kind) {
    case "rate":
      return graph(panel, rates(panel.id), [[L.last, "last /s"], [L.increase, "increase"]]);
    case "mean":
      return graph(panel, means(panel.id), [[L.last, "last"], [L.mean, "mean"]]);
    case "bars":
      return bars(rows);
    case "stat":
      return stats(rows);
    default:
      return table(panel.keyTitle, panel.columns, rows);
  }
}

function skeleton() {
  document.title = spec.TITLE;
  document.getElementById("title").textContent = spec.TITLE;
  const main = document.getElementById("sections");
  for (const section of spec.SECTIONS) {
    main.append(el("section", {}, el("h2", {}, section.title), el("div", { class: "grid" },
      ...section.panels.map((p) => el("article", { class: `panel ${p.kind}`, "data-panel": p.id }, el("h3", {}, p.title), el("div", { class: "body" }), el("p", { class: "note" }))))));
  }
}

function render() {
  for (const panel of spec.SECTIONS.flatMap((s) => s.panels)) {
    const node = document.querySelector(`[data-panel="${panel.id}"]`);
    node.querySelector(".body").replaceChildren(...contents(panel));
    node.querySelector(".note").textContent = history.at(-1)[F.panels][panel.id]?.[F.note] ?? "";
  }
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const response = await fetch(spec.DATA_PATH, { cache: "no-store" });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    const answer = await response.json();
    history.push(answer);
    // One answer older than the window stays: the first interval inside it needs its start.
    while (history.length > 2 && history[1][F.time] < answer[F.time] - spec.HISTORY_SECONDS * 1000) history.shift();
    render();
    status.className = "";
    status.textContent = `updated ${new Date(answer[F.time]).toTimeString().slice(0, 8)}, every ${spec.POLL_MS / 1000} s`;
    // When the page last heard from the gateway, in its clock: what a test waits for.
    status.dataset.time = String(answer[F.time]);
  } catch (e) {
    status.className = "failed";
    status.textContent = `the gateway did not answer: ${e.message}`;
  }
  setTimeout(poll, spec.POLL_MS);
}

skeleton();
poll();
