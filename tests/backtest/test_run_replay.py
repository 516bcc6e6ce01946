"""`nonstop run --venue replay`: the bot itself on recorded data, and its bad input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import run_cli


def test_the_bot_runs_on_a_recorded_file(data_home: Path, sim_file: Path) -> None:
    proc = run_cli("run", "--home", str(data_home), "--venue", "replay", "--data", str(sim_file), "--speed", "max",
                   "--duration", "20m", check=True)
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("summary: cycles=1200 ") and "venue=replay" in summary
    status = json.loads((data_home / "status.json").read_text())
    assert status["venue"] == "replay"
    assert {s["window"] is not None for s in status["slots"]} == {True}  # the markets came from the file


def test_replay_without_data_is_one_line(data_home: Path) -> None:
    proc = run_cli("run", "--home", str(data_home), "--venue", "replay", "--speed", "max", "--duration", "1m")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--data" in lines[0] and "Traceback" not in proc.stderr


def test_the_bot_stops_when_the_recorded_data_ends(data_home: Path, sim_file: Path) -> None:
    """No --duration (a year by default): the run ends with the file, its summary line last, exit 0."""
    with gzip.open(sim_file, "rt") as handle:
        lines = handle.read().splitlines()
    start, last = json.loads(lines[0])["start_time"], json.loads(lines[-1])["end"]["last_t"]
    proc = run_cli("run", "--home", str(data_home), "--venue", "replay", "--data", str(sim_file), "--speed", "max",
                   timeout=120, check=True)
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("summary: cycles=") and "venue=replay" in summary
    cycles = int(summary.split()[1].removeprefix("cycles="))
    # Every frame is released (one cycle a second up to the last one), then the run stops at once
    # (a few more cycles only while an order of ours is still on its way).
    assert int(last - start) + 1 <= cycles <= int(last - start) + 3, summary
    status = json.loads((data_home / "status.json").read_text())
    assert status["heartbeat"]["cycle"] == cycles


def test_the_replay_reads_the_same_without_its_fast_parsers(data_home: Path, sim_file: Path, tmp_path: Path) -> None:
    """isal and orjson only make reading faster: with both missing (the standard library's zlib
    and json then) the same file gives the same run."""
    blocked = tmp_path / "blocked"
    (blocked / "isal").mkdir(parents=True)
    (blocked / "isal" / "__init__.py").write_text("raise ImportError('isal blocked by the test')\n")
    (blocked / "orjson.py").write_text("raise ImportError('orjson blocked by the test')\n")
    args = ("run", "--home", str(data_home), "--venue", "replay", "--data", str(sim_file), "--speed", "max")
    env = {"PYTHONPATH": str(blocked)}
    which = subprocess.run([sys.executable, "-c", "import nonstop.venues.replay.reader as r; "
                            "print(r._inflate.__name__, r._LOADS.__module__)"],
                           capture_output=True, text=True, env={**os.environ, **env}, check=True)
    assert which.stdout.split() == ["zlib", "nonstop.venues.replay.reader"]  # the fallbacks are what runs
    fast = run_cli(*args, check=True).stdout.strip().splitlines()[-1]
    slow = run_cli(*args, check=True, env=env).stdout.strip().splitlines()[-1]
    assert slow == fast and "trades=" in fast
