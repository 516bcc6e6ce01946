"""`nonstop demo`: starts the bot and Mission Control as two processes, prints the URL, stops both on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import httpx

from tests.mission_control.procs import spawn, wait_for


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: its parent (the demo) has not reaped it yet
    return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"


def test_demo_runs_bot_and_mission_control_and_stops_both(tmp_path: Path) -> None:
    home = tmp_path / "demo-home"
    demo = spawn(["demo", "--home", str(home), "--port", "0", "--speed", "20"], tmp_path / "logs", "demo")
    try:
        printed = wait_for(lambda: re.search(r"dashboard (http://\S+)/#token=(\S+)\nbot pid (\d+) · mission-control "
                                             r"pid (\d+)", demo.stdout()), 60, "the demo's URL and pids")
        base, token, bot_pid, mc_pid = printed.group(1), printed.group(2), int(printed.group(3)), int(printed.group(4))
        assert token == (home / "mission-control.token").read_text().strip()
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
            wait_for(lambda: c.get("/healthz").json()["bot"] == "up", 60, "the demo's bot to be up")
            assert c.get("/api/status").json()["heartbeat"]["pid"] == bot_pid
            assert c.get("/").status_code == 200
        assert demo.stop(signal.SIGINT, timeout=40) == 0
        assert not alive(bot_pid) and not alive(mc_pid)
        assert re.search(r"summary: cycles=\d+", demo.stdout())
    finally:
        demo.stop(signal.SIGKILL)
