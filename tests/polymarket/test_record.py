"""`nonstop record` from the fake, and a run recorded on the fake that replays to the same decisions."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from nonstop.venues.replay import MarketDataReader
from tests.polymarket.conftest import env_for, start_fake, stop_fake
from tests.polymarket.test_cli import make_home, run

BOUNDARY = 1_795_100_100  # a multiple of 300


@pytest.fixture
def fast_fake():  # type: ignore[no-untyped-def]
    # 600 venue seconds before a boundary at 80x: the recorder is up before it, and the window that
    # ends there resolves (two minutes later) within the recording
    f = start_fake("--assets", "BTC", "--timeframes", "5m", "--speed", "80", "--start", str(BOUNDARY - 600))
    yield f
    stop_fake(f)


@pytest.fixture
def faster_fake():  # type: ignore[no-untyped-def]
    f = start_fake("--assets", "BTC", "--timeframes", "5m", "--speed", "60")
    yield f
    stop_fake(f)


def test_record_writes_the_replay_format(fast_fake, tmp_path: Path) -> None:
    out = tmp_path / "btc.nmd.gz"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("NONSTOP_POLYMARKET_")},
           **env_for(fast_fake, None)}
    got = subprocess.run([sys.executable, "-m", "nonstop", "record", "--venue", "polymarket", "--out", str(out),
                          "--duration", "800s", "--assets", "BTC", "--timeframes", "5m"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, got.stderr[-1500:]
    assert out.exists() and "recorded" in got.stdout
    reader = MarketDataReader(out)
    assert reader.header.source == "polymarket" and reader.header.period_s == 1.0
    kinds: set[str] = set()
    times = []
    for frame in reader.frames_iter():
        kinds |= {k for k in frame if k != "t"}
        times.append(frame["t"])
    assert {"M", "B", "T", "S", "O", "R"} <= kinds  # listings, books, trades, spot, oracle, a resolution
    assert times == sorted(times) and all(abs((t - times[0]) - round(t - times[0])) < 1e-6 for t in times)


def test_a_paper_run_recorded_on_the_fake_replays_to_the_same_decisions(faster_fake, tmp_path: Path) -> None:
    live_home = make_home(tmp_path / "live")
    data = tmp_path / "run.nmd.gz"
    got = run(live_home, env_for(faster_fake, None, NONSTOP_POLYMARKET_RECORD=str(data)), "--duration", "700s")
    assert got.returncode == 0, got.stderr[-1500:]
    assert "venue=polymarket" in got.stdout and (live_home / "status.json").exists()
    assert faster_fake.state()["accounts"] == {}  # paper: fills are simulated here, nothing is sent
    replay_home = tmp_path / "replay"
    shutil.copytree(live_home, replay_home, ignore=shutil.ignore_patterns("journal*", "status.json", "*.sqlite*"))
    again = subprocess.run([sys.executable, "-m", "nonstop", "run", "--home", str(replay_home), "--venue", "replay",
                            "--data", str(data), "--speed", "max", "--duration", "700s"],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-1500:]
    live, replay = decisions(live_home), decisions(replay_home)
    assert len(live) >= 2, got.stdout
    assert live == replay
    print(f"{len(live)} decisions replayed identically")


def decisions(home: Path) -> list[tuple]:
    db = sqlite3.connect(home / "journal.sqlite")
    rows = db.execute("SELECT client_id, slug, side, outcome, price, size, order_type FROM orders ORDER BY seq").fetchall()
    db.close()
    return rows
