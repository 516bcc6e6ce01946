"""Whole runs through the CLI: determinism, a 6 h run at --speed max, status.json never torn."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from nonstop.home.init import init_home
from nonstop.status.model import StatusDoc
from tests.conftest import NONSTOP, run_cli


def _trades(home: Path) -> tuple[list, dict]:
    doc = json.loads((home / "status.json").read_text())
    return doc["recent_trades"], doc["totals"]


def test_same_seed_gives_identical_trades_twice(tmp_path: Path) -> None:
    results = []
    for name in ("a", "b"):
        home = init_home(tmp_path / name, seed=11).root
        proc = run_cli("run", "--home", str(home), "--speed", "max", "--duration", "40m", "--seed", "11", check=True)
        trades, totals = _trades(home)
        results.append((trades, {k: v for k, v in totals.items()}, proc.stdout.strip().splitlines()[-1]))
    assert results[0][1]["trades"] > 0, "the default strategies should trade in 40 venue minutes"
    assert results[0] == results[1]
    other = init_home(tmp_path / "c", seed=12).root
    run_cli("run", "--home", str(other), "--speed", "max", "--duration", "40m", "--seed", "12", check=True)
    assert _trades(other)[0] != results[0][0], "a different seed should give different trades"


def test_six_hour_run_exits_0_and_status_is_never_torn(home: Path) -> None:
    status = home / "status.json"
    seen = {"reads": 0, "bad": [], "cycles": set()}
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                raw = status.read_text()
            except FileNotFoundError:
                continue
            try:
                doc = StatusDoc.model_validate_json(raw)
            except Exception as exc:  # noqa: BLE001 - any failure to parse is what we look for
                seen["bad"].append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            seen["reads"] += 1
            seen["cycles"].add(doc.heartbeat.cycle)
            time.sleep(0.005)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    proc = subprocess.run([*NONSTOP, "run", "--home", str(home), "--speed", "max", "--duration", "6h"],
                          capture_output=True, text=True, timeout=400)
    done.set()
    thread.join()
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("summary: cycles=21600 "), last
    for field in ("trades=", "win_rate=", "pnl="):
        assert field in last
    assert seen["bad"] == []
    assert seen["reads"] > 20 and len(seen["cycles"]) > 20
    final = StatusDoc.model_validate_json(status.read_text())
    assert final.heartbeat.cycle == 21600
    assert len(final.slots) == 16
    assert {s.asset for s in final.slots} == {"BTC", "ETH", "SOL", "XRP", "DOGE", "BNB"}
