"""report.html and comparison.html: one self-contained page each, plots embedded as base64 PNG.

No script, no external resource (the favicon is an empty data URL), so the page opens from
disk anywhere without a console error. Plots use matplotlib's object API (no pyplot state),
which is safe in worker processes.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

from matplotlib.figure import Figure

from nonstop.backtest.stats import break_even

_STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;color:#1d232a;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #dde;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}
td,th{padding:3px 10px;border-bottom:1px solid #eef;text-align:right}th{background:#f4f6fa}
td:first-child,th:first-child{text-align:left}.verdict{padding:8px 12px;background:#f4f6fa;border-left:4px solid #57a}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}img{max-width:100%}.neg{color:#b3261e}.pos{color:#1b6e3a}"""


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _pct(x: Any) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _usd(x: Any) -> str:
    if x is None:
        return "n/a"
    cls = "neg" if x < 0 else "pos"
    return f'<span class="{cls}">{x:+,.2f}</span>'


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<link rel="icon" href="data:,"><meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<style>{_STYLE}</style></head><body>{body}</body></html>\n")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _group_table(groups: dict[str, dict[str, Any]], title: str) -> str:
    rows = [[escape(k), str(s["trades"]), _pct(s["win_rate"]),
             f"{_pct(s['wilson95'][0])}–{_pct(s['wilson95'][1])}", _pct(s["break_even_win_rate"]),
             _usd(s["pnl"]), f"{s['fees']:.2f}"] for k, s in groups.items()]
    return _table([title, "trades", "win rate", "95% Wilson", "break-even", "P&L", "fees"], rows)


def _equity(report: dict[str, Any]) -> str:
    fig = Figure(figsize=(10, 3.2))
    ax = fig.subplots()
    curve = report["equity_curve"]
    start = report["run"]["venue_start"]
    if curve:
        xs = [(t - start) / 86400 for t, _ in curve]
        ys = [v for _, v in curve]
        ax.step([0.0] + xs, [0.0] + ys, where="post", color="#2b5f9e")
        peak, peaks = 0.0, []
        for y in ys:
            peak = max(peak, y)
            peaks.append(peak)
        ax.fill_between(xs, ys, peaks, step="post", color="#b3261e", alpha=0.15, label="drawdown")
        ax.legend(loc="upper left")
    ax.axhline(0, color="#999", lw=0.8)
    ax.set_xlabel("days")
    ax.set_ylabel("cumulative P&L after fees (USD)")
    ax.set_title("Equity curve")
    return _png(fig)


def _bars(groups: dict[str, dict[str, Any]], title: str) -> str:
    fig = Figure(figsize=(5.2, max(2.2, 0.32 * len(groups) + 1)))
    ax = fig.subplots()
    names = list(groups)
    values = [groups[n]["pnl"] for n in names]
    ax.barh(names, values, color=["#b3261e" if v < 0 else "#1b6e3a" for v in values])
    ax.axvline(0, color="#999", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("P&L after fees (USD)")
    ax.set_title(title)
    return _png(fig)


def _calibration(report: dict[str, Any]) -> str:
    fig = Figure(figsize=(5.2, 4.2))
    ax = fig.subplots()
    rows = report["calibration"]
    grid = [i / 100 for i in range(0, 101)]
    ax.plot(grid, grid, color="#999", lw=0.8, label="win rate = price")
    ax.plot(grid, [min(break_even(p), 1.0) for p in grid], color="#b3261e", lw=1, ls="--",
            label="break-even after taker fee")
    if rows:
        xs = [r["mean_price"] for r in rows]
        ys = [r["win_rate"] for r in rows]
        err = [[max(0.0, y - r["wilson95"][0]) for y, r in zip(ys, rows)],
               [max(0.0, r["wilson95"][1] - y) for y, r in zip(ys, rows)]]
        ax.errorbar(xs, ys, yerr=err, fmt="o", color="#2b5f9e", capsize=3, label="realised (95% Wilson)")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("entry price (mean of band)")
    ax.set_ylabel("share of trades won")
    ax.set_title("Entry price vs outcome")
    ax.legend(loc="upper left", fontsize=8)
    return _png(fig)


def _seconds(report: dict[str, Any]) -> str:
    fig = Figure(figsize=(5.2, 3.4))
    ax = fig.subplots()
    rows = report["by_seconds_left"]
    labels = [f"{r['band'][0]}–{r['band'][1] if r['band'][1] is not None else '…'}" for r in rows]
    values = [r["pnl"] for r in rows]
    ax.bar(labels, values, color=["#b3261e" if v < 0 else "#1b6e3a" for v in values])
    for i, r in enumerate(rows):
        ax.annotate(str(r["trades"]), (i, values[i]), ha="center", va="bottom", fontsize=7)
    ax.axhline(0, color="#999", lw=0.8)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.set_xlabel("seconds before the window closed, at entry (label: trades)")
    ax.set_ylabel("P&L (USD)")
    ax.set_title("P&L by seconds before close")
    return _png(fig)


def render_report(report: dict[str, Any]) -> str:
    run, s, orders = report["run"], report["summary"], report["orders"]
    params = ", ".join(f"{k}={v}" for k, v in run["params"].items()) or "as in nonstop.toml"
    source = run["source"]
    where = (f"{source['days']:g} simulated days, seed {source['seed']}" if source["kind"] == "sim"
             else f"replay of {len(source['data'])} file(s)")
    headline = _table(["", "value"], [
        ["trades", str(s["trades"])], ["win rate", _pct(s["win_rate"])],
        ["95% Wilson interval", f"{_pct(s['wilson95'][0])} – {_pct(s['wilson95'][1])}"],
        ["break-even win rate (entry prices + fees)", _pct(s["break_even_win_rate"])],
        ["average entry price", "n/a" if s["avg_entry_price"] is None else f"{s['avg_entry_price']:.3f}"],
        ["P&L after fees", _usd(s["pnl"])], ["fees paid", f"{s['fees']:.2f}"],
        ["max drawdown", f"{s['max_drawdown']:.2f}"],
        ["orders sent / filled", f"{orders['sent']} / {orders['filled']} ({_pct(orders['fill_rate'])})"],
        ["unsettled positions at the end", str(report["unsettled"]["positions"])],
        ["engine cycles / events", f"{run['cycles']:,} / {run['events']:,}"], ["wall time", f"{run['wall_s']:.1f} s"]])
    trades = report["trades"][-200:]
    trade_rows = [[escape(t["slot"]), escape(t["window"]), t["outcome"], f"{t['entry_price']:.3f}",
                   f"{t['shares']:g}", "" if t["seconds_left"] is None else f"{t['seconds_left']:.1f}",
                   "won" if t["won"] else "lost", _usd(t["pnl"])] for t in trades]
    body = (f"<h1>Backtest: {escape(params)}</h1><p>{escape(where)}, venue <b>{escape(run['venue'])}</b>, "
            f"{run['venue_days']:.2f} venue days.</p><p class=verdict>{escape(s['verdict'])}</p>{headline}"
            f"<h2>Equity</h2>{_equity(report)}"
            f"<h2>Where the P&amp;L came from</h2><div class=grid>{_bars(report['by_asset'], 'P&L per asset')}"
            f"{_bars(report['by_timeframe'], 'P&L per timeframe')}</div>"
            f"<div class=grid>{_calibration(report)}{_seconds(report)}</div>"
            f"<h2>Per strategy</h2>{_group_table(report['by_strategy'], 'strategy')}"
            f"<h2>Per asset and timeframe</h2>{_group_table(report['by_asset_timeframe'], 'asset timeframe')}"
            f"<h2>Calibration</h2>" + _table(
                ["entry price band", "trades", "mean price", "won", "95% Wilson", "break-even", "P&L"],
                [[f"{r['band'][0]:.2f}–{r['band'][1]:.2f}", str(r["trades"]), f"{r['mean_price']:.3f}",
                  _pct(r["win_rate"]), f"{_pct(r['wilson95'][0])}–{_pct(r['wilson95'][1])}",
                  _pct(r["break_even"]), _usd(r["pnl"])] for r in report["calibration"]])
            + f"<h2>Last {len(trades)} trades</h2>"
            + _table(["slot", "window", "side", "entry", "shares", "s left", "result", "P&L"], trade_rows))
    return _page(f"nonstop backtest {params}", body)


def render_comparison(rows: list[dict[str, Any]], keys: list[str]) -> str:
    table = _table(keys + ["trades", "win rate", "95% Wilson", "break-even", "P&L", "fees", "max DD", "fill rate",
                           "report"],
                   [[escape(str(r["params"].get(k))) for k in keys]
                    + [str(r["trades"]), _pct(r["win_rate"]), f"{_pct(r['wilson95'][0])}–{_pct(r['wilson95'][1])}",
                       _pct(r["break_even_win_rate"]), _usd(r["pnl"]), f"{r['fees']:.2f}",
                       f"{r['max_drawdown']:.2f}", _pct(r["fill_rate"]),
                       f'<a href="{escape(r["dir"])}/report.html">{escape(r["dir"])}</a>'] for r in rows])
    return _page("nonstop backtest sweep", f"<h1>Sweep: {len(rows)} runs</h1><p>Sorted by P&amp;L after fees. "
                 f"A win rate means little without its interval and the break-even beside it.</p>{table}")
