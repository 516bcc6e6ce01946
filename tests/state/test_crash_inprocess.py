"""Crash recovery against a venue that outlives the bot, in one process: fast, seeded, many kills.

The engine is killed inside venue calls (before or after the venue acted, and after the
venue moved on but before the bot journaled what it said), abandoned without any clean-up
(its uncommitted journal transaction is rolled back, as a kill -9 would), and rebuilt on the
same home while the venue kept trading. The real-process SIGKILL test is test_crash_sigkill.py.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections import defaultdict
from contextlib import closing
from pathlib import Path

from nonstop.engine.build import RunOptions, build_engine
from nonstop.home.paths import Home
from nonstop.markets import Outcome
from nonstop.state.journal import read_fills, read_orders, read_positions, read_summary, read_trades
from nonstop.venues.base import Side
from nonstop.venues.sim import SimConfig
from tests.state.fakes import Crash, PersistentSimVenue
from tests.state.homes import churn_home

KILLS = 25


def _life(root: Path, venue: PersistentSimVenue, seconds: float) -> bool:
    """One bot life; True if it was killed."""
    engine = build_engine(Home(root), RunOptions(speed=None), venue=venue)
    try:
        engine.run(seconds)
    except Crash:
        engine.journal.conn.close()  # the process is gone: nothing more is committed
        engine.registry.close()
        return True
    engine.close()
    return False


def _venue_cash(venue: PersistentSimVenue, start: float) -> float:
    """The account's cash from the venue's own record: its fills and the resolutions it published."""
    cash = start
    held: dict[tuple[str, Outcome], float] = defaultdict(float)
    for f in venue.fills.values():
        sign = 1.0 if f.side is Side.BUY else -1.0
        cash -= sign * f.price * f.size + f.fee
        held[(f.slug, f.outcome)] += sign * f.size
    for (slug, outcome), shares in held.items():
        res = venue.resolutions.get(slug)
        if res is not None and res.winner is outcome:
            cash += shares
    return cash


def test_many_kills_no_duplicate_no_lost_fill_positions_match(tmp_path: Path) -> None:
    root = churn_home(tmp_path / "home", every=5)
    venue = PersistentSimVenue(11, SimConfig(assets=("BTC", "ETH")))
    rng = random.Random(5)
    kills = 0
    venue.crash_rate = 0.004
    while kills < KILLS:
        kills += _life(root, venue, rng.uniform(30, 400))
        venue.run_while_down(rng.choice([0.0, 0.5, 3.0, 40.0, 200.0]))
    venue.crash_rate = 0.0
    assert not _life(root, venue, 1000)  # a clean final run: windows resolve, orders settle

    # No order placed twice: each client id reached the venue once.
    assert venue.received and max(venue.received.values()) == 1
    # Every venue fill is in the journal exactly once, and nothing else is.
    fills = read_fills(root, None)
    assert sorted(f["fill_id"] for f in fills) == sorted(venue.fills)
    # Every order the venue saw was journaled first.
    journaled = {o["client_id"] for o in read_orders(root, None)}
    assert set(venue.received) <= journaled
    # Positions equal the venue's: per token still held, and none where the venue holds nothing.
    status = json.loads((root / "status.json").read_text())
    tokens = {(o["window"], o["outcome"]): o["token_id"] for o in read_orders(root, None)}
    theirs = venue.positions()
    checked = 0
    for p in read_positions(root):
        for outcome, shares in (("Up", p["up_shares"]), ("Down", p["down_shares"])):
            token = tokens.get((p["window"], outcome))
            if token is not None:
                assert abs(shares - theirs.get(token, 0.0)) < 1e-6, (p, outcome)
                checked += 1
    assert checked > 0
    # P&L adds up: the bot's cash is what the venue's own fills and resolutions say it is.
    start = 1000.0
    assert abs(status["totals"]["cash"] - _venue_cash(venue, start)) < 1e-3
    trades = read_trades(root, None)
    assert abs(status["totals"]["realized_pnl"] - sum(t["pnl"] for t in trades)) < 1e-3
    summary = read_summary(root)
    assert len(summary["sessions"]) == 1  # one venue world: one session across every restart
    assert summary["sessions"][0]["fills"] == len(venue.fills) > 100
    assert status["totals"]["orders"] == len(journaled)


def test_closed_trades_lost_after_a_mid_cycle_commit_are_written_again(tmp_path: Path) -> None:
    root = churn_home(tmp_path / "home", every=5)
    venue = PersistentSimVenue(3, SimConfig(assets=("BTC", "ETH")))
    assert not _life(root, venue, 800)
    trades = read_trades(root, None)
    assert len(trades) >= 2
    # A kill after the resolution was committed but before its closed trade row was: the row is gone.
    with closing(sqlite3.connect(root / "journal.sqlite")) as db:
        db.execute("DELETE FROM trades WHERE id IN (SELECT id FROM trades ORDER BY id DESC LIMIT 2)")
        db.commit()
    engine = build_engine(Home(root), RunOptions(speed=None), venue=venue)  # replays, writes what is missing
    engine.close()
    assert read_trades(root, None) == trades
