// A time-series graph in plain SVG: one polyline per series over a fixed time window, a y axis
// from 0 to a round maximum with four grid lines, and the window's start, middle and end as times.
const NS = "http://www.w3.org/2000/svg";
const WIDTH = 560;
const HEIGHT = 150;
const LEFT = 46;
const BOTTOM = 16;
const TOP = 6;
export const COLORS = ["#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#705da0"];

function svg(tag, attrs, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** 1, 2 or 5 times a power of ten, at least `value`: axis labels stay short. */
function roundUp(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= value);
}

const clock = (ms) => new Date(ms).toTimeString().slice(0, 8);
const short = (v) => (v >= 1000 ? `${+(v / 1000).toFixed(1)}k` : `${+v.toFixed(2)}`);

/**
 * The graph of `series` ([{points: [[ms, value|null]]}], colours by index) from `from` to `to`
 * (ms); a null value breaks its line.
 */
export function drawChart(series, from, to, unit) {
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", "aria-label": `graph in ${unit}` });
  const values = series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v !== null);
  const max = roundUp(Math.max(0, ...values));
  const x = (t) => LEFT + ((t - from) / Math.max(1, to - from)) * (WIDTH - LEFT - 4);
  const y = (v) => TOP + (1 - v / max) * (HEIGHT - TOP - BOTTOM);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    root.append(svg("line", { class: "grid-line", x1: LEFT, x2: WIDTH, y1: y(v), y2: y(v) }));
    root.append(svg("text", { x: LEFT - 4, y: y(v) + 3, "text-anchor": "end" }, short(v)));
  }
  for (const [t, anchor] of [[from, "start"], [(from + to) / 2, "middle"], [to, "end"]]) {
    root.append(svg("text", { x: x(t), y: HEIGHT - 3, "text-anchor": anchor }, clock(t)));
  }
  series.forEach((s, i) => {
    let run = [];
    const color = COLORS[i % COLORS.length];
    const flush = () => {
      // A lone point has no line to draw: a dot.
      if (run.length === 1) root.append(svg("circle", { fill: color, r: 2, cx: run[0].split(",")[0], cy: run[0].split(",")[1] }));
      else if (run.length) root.append(svg("polyline", { stroke: color, points: run.join(" ") }));
      run = [];
    };
    for (const [t, v] of s.points) {
      if (v === null) flush();
      else run.push(`${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    }
    flush();
  });
  return root;
}
