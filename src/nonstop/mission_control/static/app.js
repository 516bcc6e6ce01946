// Mission Control page: token, the SSE stream (fetch + ReadableStream, so the token stays in a header),
// the write buttons and forms. Every write goes to the API; the page re-renders from what the server sends.
"use strict";

const R = window.Render;
const TOKEN_KEY = "nonstop.mission-control.token";
const state = { token: "", status: null, control: null, audit: [], health: null, healthAt: 0,
  connected: false, tradesSource: "", sizingDirty: false };

// -- token: from the URL fragment (never sent to a server), else stored, else asked ---------------
function takeToken() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    localStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);  // keep it out of bookmarks
  }
  state.token = localStorage.getItem(TOKEN_KEY) || "";
  if (!state.token) askToken();
}
function askToken() {
  const dialog = R.$("token-dialog");
  if (!dialog.open) dialog.showModal();
}
R.$("token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  state.token = R.$("token-input").value.trim();
  localStorage.setItem(TOKEN_KEY, state.token);
  R.$("token-dialog").close();
  connect();
});

// -- API -------------------------------------------------------------------------------------------
async function api(method, path, body, ifMatch) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch !== undefined && ifMatch !== null) headers["If-Match"] = `"${ifMatch}"`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) { localStorage.removeItem(TOKEN_KEY); askToken(); }
  if (!res.ok) throw new Error(typeof data.detail === "string" ? data.detail : `${res.status} ${res.statusText}`);
  return data;
}
function toast(text, isError) {
  const t = R.$("toast");
  t.textContent = text;
  t.className = "toast" + (isError ? " err" : "");
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, isError ? 8000 : 3000);
}
async function write(label, method, path, body, ifMatch) {
  try {
    const res = await api(method, path, body, ifMatch);
    onControl(res.control);  // the page shows the new control at once; the bot applies it next cycle
    toast(`${label}: control.json revision ${res.revision}`);
    return res;
  } catch (err) {
    toast(`${label} failed: ${err.message}`, true);
    return null;
  }
}

// -- stream ----------------------------------------------------------------------------------------
async function connect() {
  if (!state.token || connect.running) return;
  connect.running = true;
  try {
    const res = await fetch("/api/events", { headers: { Authorization: `Bearer ${state.token}` }, cache: "no-store" });
    if (res.status === 401) { localStorage.removeItem(TOKEN_KEY); state.token = ""; askToken(); return; }
    if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
    state.connected = true;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        dispatch(buf.slice(0, cut));
        buf = buf.slice(cut + 2);
      }
    }
  } catch (err) {
    // Mission Control restarting or gone: say so, retry
  } finally {
    state.connected = false;
    connect.running = false;
    paintHeartbeat();
    if (state.token) setTimeout(connect, 1000);
  }
}
function dispatch(chunk) {
  let event = "message", data = "";
  for (const line of chunk.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  if (!data) return;
  const payload = JSON.parse(data);
  if (event === "status") onStatus(payload);
  else if (event === "control") onControl(payload);
  else if (event === "audit") { state.audit = payload; R.renderAudit(payload); }
  else if (event === "health") { state.health = payload; state.healthAt = performance.now(); paintHeartbeat(); }
}

// -- state -> page ---------------------------------------------------------------------------------
function onStatus(st) {
  state.status = st;
  R.renderKpis(st);
  R.renderSlots(st, state.control);
  R.renderPositions(st);
  R.renderTrades(st.recent_trades, "status.json");
  R.renderStrategies(st, rollback);
  R.renderRateLimits(st);
  R.renderErrors(st);
  window.drawPnl(R.$("pnl-chart"), st.pnl_curve || [], st.extra && st.extra.started_at);
  const t = st.totals;
  R.$("pnl-meta").textContent = `realized ${t.realized_pnl >= 0 ? "+" : ""}${t.realized_pnl.toFixed(2)} over ${t.trades} trades`;
  paintMode();
}
function onControl(doc) {
  if (!doc) return;
  if (doc.error) {  // control.json on disk is refused (a bad hand edit): the bot keeps its last good one
    const banner = R.$("banner");
    banner.hidden = false;
    banner.textContent = `control.json is refused: ${doc.error}`;
    return;
  }
  state.control = doc;
  paintMode();
  R.$("control-rev").textContent = `control.json rev ${doc.revision} · by ${doc.updated_by}`;
  const form = R.$("sizing-form");
  if (!state.sizingDirty) for (const input of form.querySelectorAll("input")) input.value = doc.sizing[input.name];
  const boxes = R.ASSET_ORDER.map((a) => {
    const on = doc.toggles.assets[a] !== false;
    const input = R.el("input", { type: "checkbox", "data-asset": a, checked: on,
      onchange: (ev) => write(`${a} ${ev.target.checked ? "on" : "off"}`, "PUT", `/api/assets/${a}`, { enabled: ev.target.checked }, doc.revision) });
    return R.el("label", { class: "toggle" + (on ? "" : " off"), id: `asset-${a}` }, input, R.el("span", { text: a }));
  });
  R.$("asset-toggles").replaceChildren(...boxes);
  if (state.status) R.renderSlots(state.status, doc);
}
function paintMode() {
  const mode = state.control ? state.control.mode : state.status ? state.status.control.mode : "—";
  const node = R.$("mode");
  node.textContent = mode;
  node.dataset.mode = mode;
  const st = state.status;
  let applied = "";
  if (st && state.control) {
    applied = st.control.applied_revision >= state.control.revision
      ? `bot: ${st.control.mode} · rev ${st.control.applied_revision} applied`
      : `bot: ${st.control.mode} · applying rev ${state.control.revision}…`;
  }
  R.$("mode-applied").textContent = applied;
  R.$("btn-pause").disabled = mode === "PAUSED";
  R.$("btn-resume").disabled = mode === "ACTIVE";
}
function paintHeartbeat() {
  const pill = R.$("heartbeat"), text = R.$("heartbeat-text");
  const h = state.health;
  if (!state.connected) { pill.dataset.state = "offline"; text.textContent = "Mission Control unreachable · retrying"; return; }
  if (!h || h.bot === "no status") { pill.dataset.state = "unknown"; text.textContent = "no status yet"; return; }
  // age now = age when the server measured it + time since; no trust in the browser's wall clock
  const age = h.heartbeat_age_s + (performance.now() - state.healthAt) / 1000;
  const hbWall = state.status ? state.status.heartbeat.wall : null;
  const fresh = hbWall !== null ? Math.max(0, h.server_time + (performance.now() - state.healthAt) / 1000 - hbWall) : age;
  const shown = Math.min(age, fresh);
  const period = h.wall_period_s || 1;
  const s = shown > 3 * period ? "down" : shown > 1.5 * period ? "late" : "up";
  pill.dataset.state = s;
  text.textContent = s === "down" ? `bot down · last heartbeat ${R.ago(shown)} ago`
    : `bot ${s} · heartbeat ${R.ago(shown)} ago`;
}

// -- actions ---------------------------------------------------------------------------------------
const rev = () => (state.control ? state.control.revision : undefined);
R.$("btn-pause").addEventListener("click", () => write("Pause", "POST", "/api/pause", {}, rev()));
R.$("btn-resume").addEventListener("click", () => write("Resume", "POST", "/api/resume", {}, rev()));
R.$("btn-halt").addEventListener("click", () => {
  const reason = window.prompt("Halt: cancel every order and refuse new ones until resumed. Reason?", "manual halt");
  if (reason !== null) write("Halt", "POST", "/api/halt", { reason: reason || "manual halt" }, rev());
});
function rollback(name) {
  if (window.confirm(`Roll ${name} back to its previous generation?`))
    write(`Rollback ${name}`, "POST", `/api/strategies/${encodeURIComponent(name)}/rollback`, {});
}
const sizingForm = R.$("sizing-form");
sizingForm.addEventListener("input", () => { state.sizingDirty = true; });
sizingForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const body = {};
  for (const input of sizingForm.querySelectorAll("input")) if (input.value !== "") body[input.name] = Number(input.value);
  const res = await write("Sizing", "PUT", "/api/sizing", body, rev());
  if (res) { state.sizingDirty = false; onControl(res.control); }
});

takeToken();
connect();
setInterval(paintHeartbeat, 250);
