"""(b) A changed constant is live on the first cycle after the file is stable; no cycle is skipped."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.reload.conftest import make_home, probe, slot, write

SLOTS = [slot("p-btc", "probe", "Probe", "BTC"), slot("p-eth", "probe", "Probe", "ETH")]


def test_changed_constant_goes_live_on_the_first_cycle_after_the_file_is_stable(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(20)
    settle = bot.registry.scanner.settle_s
    before = bot.engine.cycle
    write(home.strategies / "probe.py", probe("v2"))
    written = os.stat(home.strategies / "probe.py").st_mtime_ns / 1e9  # the scanner's quiet time starts there
    pending: dict[int, list[str]] = {}  # cycle -> what status.json said the new generation waited for

    def went_live() -> bool:
        entry = bot.strategies()["probe"]
        pending[bot.engine.cycle] = entry["pending"]
        return entry["generation"] == 2

    bot.until(went_live, pace=0.002)

    entry = bot.strategies()["probe"]
    live = entry["history"][-1]
    assert entry["hash"] == hashlib.sha256((home.strategies / "probe.py").read_bytes()).hexdigest()
    assert entry["differs_from_file"] is False and entry["pending"] == []
    # Stable = seen on two consecutive observations, and `settle` without a write: not before the
    # second cycle after the write, and no later than the first cycle starting `settle` after it
    # (the read that finds it stable may come right after the cycle before: it counts for that one).
    quiet = min(c for c, w in bot.walls.items() if c > before + 1 and w >= written + settle)
    assert before + 2 <= live["cycle_stable"] <= quiet
    # Live on the first cycle once the file is stable and the validator has answered (it runs from the
    # first sight of the new content, so on an unloaded machine it has long answered by then).
    validated = min(c for c, notes in pending.items() if c > before and "validating" not in notes)
    assert live["cycle_live"] <= max(live["cycle_stable"], validated) + 1
    for slot_id in ("p-btc", "p-eth"):
        tags = bot.tags(slot_id)
        first_v2 = min(c for c, tag in tags if tag == "v2")
        assert first_v2 == live["cycle_live"]  # the swap happens at that cycle's reload step, before decide
        assert all(tag == "v1" for c, tag in tags if c < first_v2) and all(tag == "v2" for c, tag in tags if c >= first_v2)
        cycles = [c for c, _ in tags]
        assert cycles == list(range(cycles[0], cycles[0] + len(cycles)))  # one decision every cycle, none skipped
    # Engine-owned memory went on counting across the swap (same window, same STATE_VERSION).
    decisions = [d for _, d in bot.decisions["p-btc"] if " n=" in d]
    for a, b in zip(decisions, decisions[1:]):  # counting on across the swap; only a new window starts at 1
        n_a, n_b = (int(d.split(" n=")[1].split(" ")[0]) for d in (a, b))
        assert n_b == (n_a + 1 if a.split(" w=")[1] == b.split(" w=")[1] else 1)
    assert "v2" in decisions[-1]


def _status(home: Path) -> dict:
    try:
        return json.loads((home / "status.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _wait(home: Path, predicate, proc: subprocess.Popen, limit_s: float = 60.0) -> dict:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        doc = _status(home)
        if doc and predicate(doc):
            return doc
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError(f"status.json never matched: {json.dumps(_status(home).get('strategies'))[:2000]}")


def test_cli_run_picks_up_an_edit_and_refuses_a_broken_one(tmp_path):
    root = tmp_path / "h"
    make_home(root, SLOTS, {"probe": probe("v1")})
    nonstop = [sys.executable, "-m", "nonstop"]
    proc = subprocess.Popen(nonstop + ["run", "--home", str(root), "--speed", "20", "--duration", "2h"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def strat(doc):
            return {s["name"]: s for s in doc.get("strategies", [])}.get("probe", {})

        _wait(root, lambda d: d["heartbeat"]["cycle"] >= 3, proc)
        write(root / "strategies" / "probe.py", probe("v2"))
        digest = hashlib.sha256((root / "strategies" / "probe.py").read_bytes()).hexdigest()
        doc = _wait(root, lambda d: strat(d).get("generation") == 2, proc)
        assert strat(doc)["hash"] == digest
        doc = _wait(root, lambda d: all(s["last_decision"].startswith("armed: v2") for s in d["slots"]), proc)

        write(root / "strategies" / "probe.py", probe("v3", extra="\ndef broken(:\n"))
        doc = _wait(root, lambda d: strat(d).get("last_failure") is not None, proc)
        failure = strat(doc)["last_failure"]
        assert failure["file"].endswith("probe.py") and failure["line"] == probe("v3").count("\n") + 2
        assert "SyntaxError" in failure["message"] and failure["phase"] == "compile"
        assert strat(doc)["generation"] == 2 and strat(doc)["differs_from_file"] is True
        cycle = doc["heartbeat"]["cycle"]
        doc = _wait(root, lambda d: d["heartbeat"]["cycle"] >= cycle + 5, proc)
        assert all(s["last_decision"].startswith("armed: v2") for s in doc["slots"])  # the old generation trades on
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip().splitlines()[-1].startswith("summary: cycles=")
    assert not [p for p in os.listdir(root / "strategies") if p.endswith(".tmp")]


def test_kill_9_after_a_reload_restarts_on_the_same_generation(tmp_path):
    root = tmp_path / "h"
    make_home(root, SLOTS, {"probe": probe("v1")})
    cmd = [sys.executable, "-m", "nonstop", "run", "--home", str(root), "--speed", "20", "--duration", "2h"]

    def strat(doc):
        return {s["name"]: s for s in doc.get("strategies", [])}.get("probe", {})

    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait(root, lambda d: d["heartbeat"]["cycle"] >= 2, proc)
        write(root / "strategies" / "probe.py", probe("v2"))
        _wait(root, lambda d: strat(d).get("generation") == 2, proc)
    finally:
        proc.kill()  # no goodbye: whatever the bot had not written is lost
        proc.wait()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        doc = _wait(root, lambda d: d["heartbeat"]["pid"] == proc.pid, proc)
        assert strat(doc)["generation"] == 2 and strat(doc)["differs_from_file"] is False
        write(root / "strategies" / "probe.py", probe("v3"))
        doc = _wait(root, lambda d: strat(d).get("generation") == 3, proc)  # numbering carries on
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0
