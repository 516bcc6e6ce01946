// Pure-ish renderers: state in, DOM out. Text goes through textContent only (bot data is never HTML).
"use strict";

const ASSET_ORDER = ["BTC", "ETH", "SOL", "XRP", "DOGE", "BNB"];
const TF_SECONDS = { "5m": 300, "15m": 900 };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}
const $ = (id) => document.getElementById(id);
const money = (v) => (v === undefined || v === null ? "—" : "$" + Number(v).toFixed(2));
const signed = (v) => (v >= 0 ? "+" : "") + Number(v).toFixed(2);
const pnlClass = (v) => (v > 0 ? "pos" : v < 0 ? "neg" : "");
function clock(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}
function ago(seconds) {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}
const hhmmss = (t) => new Date(t * 1000).toISOString().slice(11, 19);

function setText(id, text, cls) {
  const node = $(id);
  node.textContent = text;
  if (cls !== undefined) node.className = "value mono " + cls;
}

function renderKpis(st) {
  const t = st.totals, hb = st.heartbeat;
  setText("k-equity", money(t.equity));
  setText("k-pnl", signed(t.realized_pnl), pnlClass(t.realized_pnl));
  setText("k-daily", signed(t.daily_pnl || 0), pnlClass(t.daily_pnl || 0));
  setText("k-trades", `${t.trades} · ${t.trades ? ((100 * t.wins) / t.trades).toFixed(1) + "%" : "n/a"}`);
  setText("k-orders", `${t.orders} · ${t.fills}`);
  setText("k-fees", money(t.fees));
  setText("k-cash", money(t.cash));
  setText("k-cycle", `${hb.cycle_ms.toFixed(2)} ms`);
  $("botline").textContent = `${st.venue} · pid ${hb.pid} · cycle ${hb.cycle} · ${hhmmss(hb.venue)} venue time`;
}

function slotCard(s, position) {
  const tf = TF_SECONDS[s.timeframe] || 300;
  const left = s.seconds_left;
  const bar = el("div", { class: "bar" + (left !== null && left < 90 ? " late" : "") }, el("i"));
  bar.firstChild.style.width = left === null ? "0%" : `${Math.min(100, Math.max(0, 100 * (1 - left / tf)))}%`;
  const decision = s.last_decision || "—";
  const dcls = decision.startsWith("sent") ? " sent" : decision.startsWith("error") ? " err" : "";
  const pos = position
    ? el("div", { class: "position", text: `Up ${position.up_shares} · Down ${position.down_shares} · cost ${money(position.cost)}${position.open_orders ? ` · ${position.open_orders} open` : ""}` })
    : null;
  return el("div", { class: "slot", "data-slot": s.id },
    el("div", { class: "slot-top" },
      el("span", { class: "slot-name", text: s.id.split("-")[0] }),
      el("span", { class: "gen", title: s.strategy, text: `g${s.generation ?? "?"}` }),
      el("span", { class: "flag armed" + (s.armed ? " on" : ""), text: "armed" }),
      el("span", { class: "flag fired" + (s.fired ? " on" : ""), text: "fired" }),
      el("span", { class: "left", text: s.enabled ? clock(left) : "off" })),
    bar, pos,
    el("div", { class: "decision" + dcls, title: decision, text: decision }));
}

function renderSlots(st, control) {
  const assets = ASSET_ORDER.filter((a) => st.slots.some((s) => s.asset === a));
  const tfs = Object.keys(TF_SECONDS).filter((tf) => st.slots.some((s) => s.timeframe === tf));
  const positions = new Map(st.positions.map((p) => [`${p.slot}|${p.window}`, p]));
  const toggles = (control && control.toggles && control.toggles.assets) || {};
  const head = el("tr", {}, el("th", { text: "" }), tfs.map((tf) => el("th", { text: tf })));
  const rows = assets.map((a) => el("tr", { class: toggles[a] === false ? "off" : "", "data-asset": a },
    el("td", { class: "asset", text: a }),
    tfs.map((tf) => el("td", {}, st.slots.filter((s) => s.asset === a && s.timeframe === tf)
      .map((s) => slotCard(s, positions.get(`${s.id}|${s.window}`)))))));
  $("slots").replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
}

function renderPositions(st) {
  const head = el("tr", {}, ["slot", "window ends", "Up", "Down", "cost", "orders"].map((h) => el("th", { text: h })));
  const rows = st.positions.map((p) => {
    const end = Number(p.window.split("-").pop()) + (TF_SECONDS[p.timeframe] || 0);
    return el("tr", {}, el("td", { text: p.slot }), el("td", { text: hhmmss(end) }), el("td", { text: p.up_shares }),
      el("td", { text: p.down_shares }), el("td", { text: money(p.cost) }), el("td", { text: p.open_orders }));
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { class: "muted", colspan: 6, text: "flat" })));
  $("positions").replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
}

function renderTrades(trades, source) {
  const head = el("tr", {}, ["closed", "slot", "held", "won", "shares", "cost", "P&L"].map((h) => el("th", { text: h })));
  const rows = trades.slice(-14).reverse().map((t) => el("tr", {},
    el("td", { text: hhmmss(t.closed_at) }), el("td", { text: t.slot }), el("td", { text: t.outcome }),
    el("td", { text: t.winner }), el("td", { text: Number(t.shares).toFixed(1) }), el("td", { text: money(t.cost) }),
    el("td", { class: pnlClass(t.pnl), text: signed(t.pnl) })));
  if (!rows.length) rows.push(el("tr", {}, el("td", { class: "muted", colspan: 7, text: "no closed trade yet" })));
  $("trades").replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
  $("trades-meta").textContent = source ? `from ${source}` : "";
}

function renderStrategies(st, onRollback) {
  const now = Date.now() / 1000;
  const cards = st.strategies.map((s) => {
    const earlier = (s.history || []).some((g) => g.generation < s.generation);
    return el("div", { class: "strategy", "data-strategy": s.name },
      el("div", { class: "row" },
        el("span", { class: "name", text: s.name }),
        el("span", { class: "generation", "data-generation": s.generation, text: `gen ${s.generation}` }),
        el("span", { class: "spacer" }),
        el("button", { class: "btn small danger", type: "button", disabled: !earlier,
          title: earlier ? "reinstate the generation before this one" : "no earlier generation",
          onclick: () => onRollback(s.name), text: "Rollback" })),
      el("div", { class: "muted small mono", text: `${s.module} · sha ${s.hash.slice(0, 10)} · loaded ${ago(Math.max(0, now - s.loaded_at))} ago` }),
      el("div", { class: "history" }, (s.history || []).slice(-6).map((g) => el("span", {
        class: (g.generation === s.generation ? "live " : "") + (String(g.origin || "").includes("rollback") ? "rolled" : ""),
        title: `sha ${g.hash.slice(0, 12)} · loaded ${hhmmss(g.loaded_at)}${g.cycle_live ? ` · live at cycle ${g.cycle_live}` : ""}${g.note ? ` · ${g.note}` : ""}`,
        text: `g${g.generation}${g.origin ? ` ${g.origin}` : ""} ${hhmmss(g.loaded_at)}` }))),
      s.differs_from_file ? el("div", { class: "small", text: "file differs from the live generation: reload pending" }) : null,
      (s.pending || []).length ? el("div", { class: "small muted", text: `pending: ${s.pending.join(", ")}` }) : null,
      s.last_failure ? el("div", { class: "failure", text: `last failure (${s.last_failure.phase || "load"}): ${s.last_failure.message}${s.last_failure.line ? ` at line ${s.last_failure.line}` : ""}` }) : null);
  });
  $("strategies").replaceChildren(...cards);
}

function renderRateLimits(st) {
  const entries = Object.entries(st.rate_limits || {});
  if (!entries.length) { $("rate-limits").replaceChildren(el("span", { class: "muted", text: "no budgets reported by this venue" })); return; }
  // tokens_<window> / capacity_<window> pairs become bars; any other field is shown as text
  const blocks = entries.map(([name, f]) => {
    const windows = Object.keys(f).filter((k) => k.startsWith("tokens_") && `capacity_${k.slice(7)}` in f).map((k) => k.slice(7));
    const bars = windows.map((w) => {
      const left = f[`tokens_${w}`], cap = f[`capacity_${w}`] || 1;
      const bar = el("div", { class: "bar budget" + (left / cap < 0.2 ? " late" : "") }, el("i"));
      bar.firstChild.style.width = `${Math.max(0, Math.min(100, (100 * left) / cap))}%`;
      return el("div", { class: "budget-row" }, el("span", { class: "mono", text: `${w}` }), bar,
        el("span", { class: "mono", text: `${Math.floor(left)}/${cap}` }));
    });
    const used = new Set(windows.flatMap((w) => [`tokens_${w}`, `capacity_${w}`]));
    const num = (v) => Number(v).toFixed(Number.isInteger(v) ? 0 : 2);
    const rest = Object.entries(f).filter(([k]) => !used.has(k)).map(([k, v]) =>
      k.endsWith("_s") ? `${k.slice(0, -2).replace(/_/g, " ")} ${num(v)}s` : `${k.replace(/_/g, " ")} ${num(v)}`);
    return el("div", { class: "budget-block", "data-endpoint": name }, el("div", { class: "mono", text: name }), bars,
      rest.length ? el("div", { class: "muted small", text: rest.join(" · ") }) : null);
  });
  $("rate-limits").replaceChildren(...blocks);
}

function renderErrors(st) {
  const items = [];
  if (st.control.refused) items.push(el("div", { class: "err", text: `control.json refused: ${st.control.refused.reason}` }));
  const last = (st.errors || []).slice(-1)[0];
  if (last) items.push(el("div", { class: "err", title: `${(st.errors || []).length} recent errors`,
    text: `last error ${hhmmss(last.time)} · ${last.where}: ${last.message}` }));
  $("errors").replaceChildren(...items);
  const banner = $("banner");
  const halt = st.control.halt_reason;
  banner.hidden = !(halt || st.control.refused);
  banner.textContent = halt ? `HALTED: ${halt}` : st.control.refused ? `the bot refuses control.json: ${st.control.refused.reason}` : "";
}

function describeChange(entry) {
  const diff = entry.diff || entry.changes || [];
  if (!diff.length) return entry.summary || entry.action || "";
  return diff.map((d) => `${d.path || d.field}: ${JSON.stringify(d.old)} → ${JSON.stringify(d.new)}`).join("; ");
}

function renderAudit(entries) {
  const items = entries.slice().reverse().map((e) => {
    const when = e.time || e.ts || e.at;
    const shown = typeof when === "number" ? hhmmss(when) : String(when || "").replace("T", " ").slice(0, 19);
    return el("li", {}, el("span", { class: "when", text: shown + " " }), el("span", { class: "who", text: e.actor || "?" }),
      el("span", { class: "muted", text: ` rev ${e.old_revision ?? e.from_revision ?? "?"} → ${e.new_revision ?? e.revision ?? e.to_revision ?? "?"}` }),
      el("div", { class: "what", text: describeChange(e) }));
  });
  if (!items.length) items.push(el("li", { class: "muted", text: "no control change yet" }));
  $("audit").replaceChildren(...items);
}

window.Render = { el, $, renderKpis, renderSlots, renderPositions, renderTrades, renderStrategies,
  renderRateLimits, renderErrors, renderAudit, ago, ASSET_ORDER };
