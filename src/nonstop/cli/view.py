"""A terminal picture of status.json (rich): used by `nonstop status` and `nonstop demo`."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text


def status_renderable(doc: dict[str, Any], wall_now: float) -> Group:
    hb, tot, ctl = doc["heartbeat"], doc["totals"], doc["control"]
    age = wall_now - hb["wall"]
    colour = "green" if age < 3 * hb["period_s"] else ("yellow" if age < 10 * hb["period_s"] else "red")
    win = f"{100 * tot['wins'] / tot['trades']:.1f}%" if tot["trades"] else "n/a"
    head = Text.assemble(
        ("● ", colour), (f"{doc['venue']} ", "bold"), f"cycle {hb['cycle']}  ",
        f"heartbeat {age:.1f}s ago  mode ", (ctl["mode"], "bold red" if ctl["mode"] != "ACTIVE" else "bold"),
        f"  rev {ctl['applied_revision']}  cash ${tot['cash']:.2f}  P&L ",
        (f"{tot['realized_pnl']:+.2f}", "green" if tot["realized_pnl"] >= 0 else "red"),
        f"  trades {tot['trades']} (win {win})  orders {tot['orders']}  cycle {hb['cycle_ms']:.2f} ms")
    slots = Table(box=None, pad_edge=False, header_style="bold")
    for col in ("slot", "window", "left", "armed", "fired", "gen", "last decision"):
        slots.add_column(col, no_wrap=col != "last decision", overflow="ellipsis")
    for s in doc["slots"]:
        left = f"{s['seconds_left']:.0f}s" if s["seconds_left"] is not None else "-"
        slots.add_row(s["id"], (s["window"] or "-").rsplit("-", 1)[-1], left, "●" if s["armed"] else "",
                      "●" if s["fired"] else "", str(s["generation"]), s["last_decision"][:70])
    trades = Table(box=None, header_style="bold", title="recent trades", title_justify="left")
    for col in ("slot", "held", "won", "shares", "cost", "pnl"):
        trades.add_column(col)
    for t in doc["recent_trades"][-6:]:
        trades.add_row(t["slot"], t["outcome"], t["winner"], f"{t['shares']:g}", f"{t['cost']:.2f}",
                       Text(f"{t['pnl']:+.2f}", "green" if t["pnl"] >= 0 else "red"))
    parts: list[Any] = [head, slots, trades]
    if doc.get("errors"):
        parts.append(Text(f"last error: {doc['errors'][-1]['where']}: {doc['errors'][-1]['message']}", "red"))
    return Group(*parts)


def render_status(doc: dict[str, Any], wall_now: float) -> None:
    Console().print(status_renderable(doc, wall_now))
