// The P&L curve as inline SVG: a step line of realized P&L over venue time, green above zero, red below.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(name, attrs, text) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  if (text !== undefined) el.textContent = text;
  return el;
}

function niceTicks(lo, hi, count) {
  const span = hi - lo || 1;
  const step0 = span / count;
  const mag = Math.pow(10, Math.floor(Math.log10(step0)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) || step0;
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) ticks.push(+v.toFixed(10));
  return ticks;
}

function hhmm(t) {
  const d = new Date(t * 1000);
  return d.toISOString().slice(11, 16);
}

// points: [[venueTime, realizedPnl], ...]; startTime: the run's venue start (curve starts at 0 there)
function drawPnl(container, points, startTime) {
  const w = container.clientWidth || 800, h = container.clientHeight || 230;
  const pad = { l: 52, r: 14, t: 10, b: 22 };
  const svg = svgEl("svg", { viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", role: "img",
    "aria-label": "realized P&L over venue time" });
  // several windows resolve at the same instant: keep the last value at each time
  const pts = [];
  for (const p of points) {
    if (pts.length && pts[pts.length - 1][0] === p[0]) pts[pts.length - 1] = p;
    else pts.push(p);
  }
  if (pts.length && startTime && startTime < pts[0][0]) pts.unshift([startTime, 0]);
  if (pts.length < 2) {
    svg.appendChild(svgEl("text", { x: w / 2, y: h / 2, "text-anchor": "middle", class: "empty" },
      "no closed trade yet — the curve starts at the first resolution"));
    container.replaceChildren(svg);
    return;
  }
  const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  let y0 = Math.min(0, ...ys), y1 = Math.max(0, ...ys);
  const ypad = (y1 - y0) * 0.08 || 1;
  y0 -= ypad; y1 += ypad;
  const X = (x) => pad.l + ((x - x0) / (x1 - x0 || 1)) * (w - pad.l - pad.r);
  const Y = (y) => pad.t + (1 - (y - y0) / (y1 - y0)) * (h - pad.t - pad.b);

  const ticks = niceTicks(y0, y1, 4);
  const decimals = ticks.length > 1 && ticks[1] - ticks[0] < 1 ? 2 : 0;
  for (const v of ticks) {
    svg.appendChild(svgEl("line", { x1: pad.l, x2: w - pad.r, y1: Y(v), y2: Y(v), class: "axis" }));
    svg.appendChild(svgEl("text", { x: pad.l - 6, y: Y(v) + 3, "text-anchor": "end" }, v.toFixed(decimals)));
  }
  svg.appendChild(svgEl("line", { x1: pad.l, x2: w - pad.r, y1: Y(0), y2: Y(0), class: "zero" }));
  const xt = 5;
  for (let i = 0; i <= xt; i++) {
    const t = x0 + ((x1 - x0) * i) / xt;
    svg.appendChild(svgEl("text", { x: X(t), y: h - 6, "text-anchor": i === 0 ? "start" : i === xt ? "end" : "middle" }, hhmm(t)));
  }
  // realized P&L only changes at resolutions: a step line says so honestly
  let d = `M${X(pts[0][0])},${Y(pts[0][1])}`;
  for (let i = 1; i < pts.length; i++) d += ` H${X(pts[i][0])} V${Y(pts[i][1])}`;
  const last = pts[pts.length - 1][1];
  const colour = last >= 0 ? "#2ecc71" : "#ff4d4f";
  const defs = svgEl("defs", {});
  const grad = svgEl("linearGradient", { id: "pnlfill", x1: 0, y1: 0, x2: 0, y2: 1 });
  grad.appendChild(svgEl("stop", { offset: "0%", "stop-color": colour, "stop-opacity": 0.28 }));
  grad.appendChild(svgEl("stop", { offset: "100%", "stop-color": colour, "stop-opacity": 0 }));
  defs.appendChild(grad);
  svg.appendChild(defs);
  svg.appendChild(svgEl("path", { d: `${d} V${Y(0)} H${X(pts[0][0])} Z`, fill: "url(#pnlfill)", stroke: "none" }));
  svg.appendChild(svgEl("path", { d, fill: "none", stroke: colour, "stroke-width": 2, "vector-effect": "non-scaling-stroke" }));
  const lx = X(pts[pts.length - 1][0]), ly = Y(last);
  svg.appendChild(svgEl("circle", { cx: lx, cy: ly, r: 3.5, fill: colour }));
  const label = svgEl("text", { x: Math.min(lx, w - pad.r) - 4, y: ly - 7, "text-anchor": "end" },
    (last >= 0 ? "+" : "") + last.toFixed(2));
  label.style.fill = colour;  // CSSOM, not a style attribute: allowed by the page's CSP
  label.style.fontWeight = "700";
  svg.appendChild(label);
  container.replaceChildren(svg);
}

window.drawPnl = drawPnl;
