"""Rate limits: a burst over budget is delayed and reported, never dropped; budgets survive a restart."""

from __future__ import annotations

import json
from pathlib import Path

from nonstop.engine.build import RunOptions, build_engine
from nonstop.home.paths import Home
from nonstop.state.journal import read_orders, read_rate_buckets
from nonstop.venues.sim import SimConfig
from tests.conftest import run_cli
from tests.state.fakes import Crash, PersistentSimVenue
from tests.state.homes import churn_home


def _limited(root: Path, spec: str) -> Path:
    return churn_home(root, every=2, extra=f'[polymarket.rate_limits]\n"POST /order" = {spec}\n')


def test_a_burst_over_budget_is_delayed_and_reported_never_dropped(tmp_path: Path) -> None:
    home = _limited(tmp_path / "home", "[[3, 10]]")  # 3 orders per 10 s; the strategy wants ~20
    proc = run_cli("run", "--home", str(home), "--speed", "max", "--duration", "10m")
    assert proc.returncode == 0, proc.stderr
    status = json.loads((home / "status.json").read_text())
    budget = status["rate_limits"]["POST /order"]
    assert budget["capacity_10s"] == 3 and budget["delayed"] > 20 and budget["max_delay_s"] > 1
    orders = read_orders(home, None)
    reached = [o for o in orders if o["history"]]  # the venue answered: it was sent
    # Not one dropped: every intent reached the venue, except those still waiting when the run ended.
    assert len(reached) + budget["queued"] == len(orders) == status["totals"]["orders"]
    assert not any("abandon" in h["reason"] for o in orders for h in o["history"])
    # And never faster than the budget: at most 3 + 3 in any 10 s (burst plus refill), latency aside.
    first = sorted(o["history"][0]["ts"] for o in reached)
    assert max(sum(1 for t in first if t0 <= t < t0 + 10) for t0 in first) <= 7


def _engine(root: Path, venue: PersistentSimVenue):  # type: ignore[no-untyped-def]
    return build_engine(Home(root), RunOptions(speed=None), venue=venue)


def test_budgets_survive_a_restart_clean_or_killed(tmp_path: Path) -> None:
    home = _limited(tmp_path / "home", "[[6, 3600]]")  # 6 orders an hour
    venue = PersistentSimVenue(5, SimConfig(assets=("BTC", "ETH")))
    fresh = _engine(home, venue)
    assert fresh.rate_limit_status()["POST /order"]["tokens_3600s"] == 6
    fresh.run(120)
    fresh.close()
    assert sum(venue.received.values()) == 6  # the budget, no more
    saved = {r["window_s"]: r["tokens"] for r in read_rate_buckets(home) if r["endpoint"] == "POST /order"}
    assert saved[3600] < 1
    again = _engine(home, venue)  # a restart does not get a fresh budget
    assert again.rate_limit_status()["POST /order"]["tokens_3600s"] < 1.5
    again.close()

    # Killed right after an order went out: that spend was made durable before the call.
    killed = tmp_path / "killed"
    _limited(killed, "[[6, 3600]]")
    venue = PersistentSimVenue(5, SimConfig(assets=("BTC", "ETH")))
    calls = {"n": 0}
    place = venue.place

    def place_then_die(order, now):  # type: ignore[no-untyped-def]
        place(order, now)
        calls["n"] += 1
        if calls["n"] == 4:
            raise Crash()

    venue.place = place_then_die  # type: ignore[method-assign]
    engine = _engine(killed, venue)
    try:
        engine.run(600)
    except Crash:
        engine.journal.conn.close()  # the process is gone: nothing more is committed
    assert sum(venue.received.values()) == 4
    venue.place = place  # type: ignore[method-assign]
    after = _engine(killed, venue).rate_limit_status()["POST /order"]["tokens_3600s"]
    assert 2 <= after < 2.5  # 6 - 4 spent, plus at most a few minutes of refill
