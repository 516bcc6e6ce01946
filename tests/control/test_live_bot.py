"""`nonstop ctl --wait` against a real `nonstop run` process on the sim: the change lands on the
bot's next cycle, and status.json (and the orders it counts) show it."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

from tests.conftest import NONSTOP, run_cli
from tests.control.conftest import make_probe_home


def read_status(home: Path) -> dict[str, Any] | None:
    try:
        return json.loads((home / "status.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def until(check: Callable[[], Any], limit_s: float = 60.0) -> Any:
    """Poll until `check` gives something truthy (a generous limit: a stuck bot fails, a slow one does not)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_pause_and_resume_a_running_bot(tmp_path: Path) -> None:
    home = make_probe_home(tmp_path / "h").root
    bot = subprocess.Popen([*NONSTOP, "run", "--home", str(home), "--speed", "100", "--duration", "3h"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        until(lambda: (read_status(home) or {}).get("totals", {}).get("orders", 0) > 0)
        proc = run_cli("ctl", "--home", str(home), "--wait", "--timeout", "60", "pause", timeout=90)
        assert proc.returncode == 0, proc.stderr
        assert "applied: the bot runs revision 2, mode PAUSED" in proc.stdout
        paused = read_status(home)
        assert paused and paused["control"]["applied_revision"] == 2
        orders = paused["totals"]["orders"]
        later = until(lambda: (s := read_status(home)) and s["heartbeat"]["cycle"] > paused["heartbeat"]["cycle"] + 30
                      and s)
        assert later["totals"]["orders"] == orders  # paused: not one order since the revision was applied
        assert all("PAUSED" in s["last_decision"] for s in later["slots"] if s["last_decision"].startswith("refused"))
        proc = run_cli("ctl", "--home", str(home), "--wait", "--timeout", "60", "resume", timeout=90)
        assert proc.returncode == 0 and "mode ACTIVE" in proc.stdout, proc.stderr
        until(lambda: (read_status(home) or {}).get("totals", {}).get("orders", 0) > orders)
    finally:
        bot.terminate()
        out, err = bot.communicate(timeout=60)
    assert bot.returncode == 0, err
    assert "summary:" in out
