"""The journal file through the CLI: what a run leaves in it, damaged and too-new journals refused
untouched, an older schema migrated on start."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from nonstop.state.journal import (read_control_revisions, read_fills, read_generations, read_orders,
                                   read_summary, read_trades)
from tests.conftest import NONSTOP, run_cli
from tests.state.homes import churn_home

DATA = Path(__file__).with_name("data")


def _files(root: Path) -> dict[str, bytes]:
    """Every file and folder under the home, with file contents: 'touches nothing' is this unchanged."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(root.rglob("*"))}


def _run(home: Path, duration: str = "20m") -> dict:
    proc = run_cli("run", "--home", str(home), "--speed", "max", "--duration", duration)
    assert proc.returncode == 0, proc.stderr
    return json.loads((home / "status.json").read_text())


def _refused(home: Path, *needles: str) -> None:
    before = _files(home)
    proc = run_cli("run", "--home", str(home), "--speed", "max", "--duration", "10s")
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    assert _files(home) == before  # not a byte, not a -wal/-shm, not a status.json


@pytest.fixture(scope="module")
def traded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    home = churn_home(tmp_path_factory.mktemp("traded") / "home")
    return home, _run(home)


def test_a_run_journals_orders_fills_trades_generations_and_control(traded: tuple[Path, dict]) -> None:
    home, status = traded
    totals = status["totals"]
    orders, fills, trades = read_orders(home, None), read_fills(home, None), read_trades(home, None)
    assert totals["orders"] == len(orders) > 20 and totals["fills"] == len(fills) > 20
    assert totals["trades"] == len(trades) > 0
    assert abs(totals["realized_pnl"] - sum(t["pnl"] for t in trades)) < 1e-3
    # cash = start - what the fills cost + what the resolved windows paid
    flows = sum((-1 if f["side"] == "BUY" else 1) * f["price"] * f["size"] - f["fee"] for f in fills)
    assert abs(totals["cash"] - (1000.0 + flows + sum(t["payout"] for t in trades))) < 1e-3
    # every order has its status history, from the venue's first answer on
    assert all(o["history"] and o["status"] == o["history"][-1]["status"] for o in orders)
    assert {g["module"] for g in read_generations(home)} == {"churn"}
    assert read_control_revisions(home)[0]["revision"] == 1
    assert read_trades(home, 3) == trades[:3]  # newest first, limited


def test_each_sim_run_is_a_new_session_with_its_own_ids(traded: tuple[Path, dict], tmp_path: Path) -> None:
    home, first = traded
    again = tmp_path / "again"
    again.mkdir()
    for name in ("nonstop.toml", "control.json", "journal.sqlite"):
        (again / name).write_bytes((home / name).read_bytes())
    (again / "strategies").mkdir()
    (again / "strategies" / "churn.py").write_bytes((home / "strategies" / "churn.py").read_bytes())
    second = _run(again)
    sessions = read_summary(again)["sessions"]
    # The in-process sim starts a new world each run: a new session, the same decisions, fresh cash.
    assert [s["id"] for s in sessions] == [1, 2] and sessions[0]["orders"] == sessions[1]["orders"]
    assert second["totals"] == first["totals"]
    ids = [(o["session"], o["client_id"]) for o in read_orders(again, None)]
    assert len(ids) == len(set(ids))


def test_rate_limits_in_status(traded: tuple[Path, dict]) -> None:
    row = traded[1]["rate_limits"]["POST /order"]
    assert row["capacity_10s"] == 3500 and row["capacity_600s"] == 36000
    assert row["tokens_10s"] <= 3500 and row["queued"] == 0


def test_garbage_journal_is_refused_and_left_untouched(tmp_path: Path) -> None:
    home = churn_home(tmp_path / "home")
    (home / "journal.sqlite").write_bytes(b"these are not the pages you are looking for" * 50)
    _refused(home, "journal.sqlite", "not a nonstop journal", "move it aside")


def test_damaged_journal_is_refused_and_left_untouched(traded: tuple[Path, dict], tmp_path: Path) -> None:
    home = churn_home(tmp_path / "home")
    raw = bytearray((traded[0] / "journal.sqlite").read_bytes())
    page = int.from_bytes(raw[16:18], "big")
    raw[page * 3: page * 3 + 64] = b"\xff" * 64  # a b-tree page's header: the structure, not just data
    (home / "journal.sqlite").write_bytes(bytes(raw))
    _refused(home, "journal.sqlite", "corrupt", "move it aside")


def test_journal_from_a_newer_nonstop_is_refused_and_left_untouched(tmp_path: Path) -> None:
    home = churn_home(tmp_path / "home")
    _run(home, "1m")
    with closing(sqlite3.connect(home / "journal.sqlite")) as db:  # closed: no -wal left behind
        db.execute("PRAGMA user_version = 99")
    _refused(home, "journal schema version 99", "newer", "upgrade nonstop")


def test_a_version_1_journal_is_migrated_on_start_and_keeps_its_history(tmp_path: Path) -> None:
    home = churn_home(tmp_path / "home")
    with closing(sqlite3.connect(home / "journal.sqlite")) as db:  # what nonstop's first journal looked like
        db.executescript((DATA / "journal_v1.sql").read_text())
    old_orders = read_orders(home, None)
    assert len(old_orders) == 2 and read_trades(home, None)[0]["pnl"] == 1.25
    _run(home, "5m")
    with closing(sqlite3.connect(home / "journal.sqlite")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"rate_buckets", "strategy_generations", "control_revisions"} <= tables
    orders = read_orders(home, None)
    kept = {o["client_id"]: o for o in orders if o["session"] == 1}
    assert set(kept) == {o["client_id"] for o in old_orders}
    # the old session's resting order went with its venue world: closed, and the history says why
    resting = kept["old-slot.1793577600.2"]
    assert resting["status"] == "CANCELLED" and "venue session ended" in resting["history"][-1]["reason"]
    assert any(o["session"] == 2 for o in orders)
    assert read_trades(home, None)[-1]["pnl"] == 1.25
    assert [s["id"] for s in read_summary(home)["sessions"]] == [1, 2]


def test_a_second_bot_on_the_same_home_is_refused(tmp_path: Path) -> None:
    home = churn_home(tmp_path / "home")
    first = subprocess.Popen([*NONSTOP, "run", "--home", str(home), "--speed", "1", "--duration", "1h"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if (home / "status.json").exists() or first.poll() is not None:
                break
            time.sleep(0.05)
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        proc = run_cli("run", "--home", str(home), "--speed", "max", "--duration", "10s")
        assert proc.returncode == 2 and f"another bot (pid {first.pid})" in proc.stderr, proc.stderr
    finally:
        first.terminate()
        first.wait(30)
    assert first.returncode == 0  # the first one was never disturbed, and stopped cleanly
