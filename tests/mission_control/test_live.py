"""Mission Control beside a trading bot: two processes, one file boundary.

The tests in this module share one bot and run in file order: the last one kills the bot.
"""

from __future__ import annotations

import json
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from nonstop.home.init import init_home
from tests.mission_control.procs import (MissionControl, Proc, listening_inodes, read_json, socket_inodes,
                                         start_bot, start_mc, wait_for)

SPEED = 5  # venue seconds per wall second: a 1 s cycle period is 0.2 s of wall time


@dataclass
class Live:
    home: Path
    logs: Path
    bot: Proc
    mc: MissionControl


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    base = tmp_path_factory.mktemp("live")
    home, logs = base / "home", base / "logs"
    init_home(home)
    bot = start_bot(home, logs, speed=str(SPEED))
    mc = start_mc(home, logs)
    state = Live(home, logs, bot, mc)
    try:
        yield state
    finally:
        state.mc.proc.stop()  # the restarted one, when a test replaced it
        mc.proc.stop()
        bot.stop()


def beat(live: Live) -> tuple[int, int, float]:
    with live.mc.client() as c:
        hb = c.get("/api/status").json()["heartbeat"]
    return hb["pid"], hb["cycle"], hb["venue"]


def test_the_bot_owns_no_listening_socket(live: Live) -> None:
    with live.mc.client() as c:
        wait_for(lambda: c.get("/healthz").json()["bot"] == "up", 30, "the bot to be up")
        assert c.post("/api/pause").status_code == 200  # the planes talk: through control.json only
    wait_for(lambda: read_json(live.home / "status.json")["control"]["mode"] == "PAUSED", 30, "the bot to pause")
    listening = listening_inodes()
    bot_sockets = socket_inodes(live.bot.pid)
    assert bot_sockets & listening == set(), f"the bot listens on {bot_sockets & listening}"
    # the same method finds Mission Control's listener, so it would find the bot's
    assert socket_inodes(live.mc.proc.pid) & listening
    with live.mc.client() as c:
        assert c.post("/api/resume").status_code == 200


def test_mission_control_killed_and_restarted_while_the_bot_trades(live: Live) -> None:
    bot_pid = live.bot.pid
    samples = [beat(live)]
    wait_for(lambda: beat(live)[1] >= samples[0][1] + 10, 30, "ten more cycles")
    samples.append(beat(live))
    live.mc.proc.stop(signal.SIGKILL)
    # the bot goes on without its control plane
    during = wait_for(lambda: (s := read_json(live.home / "status.json")) and s["heartbeat"]["cycle"] >= samples[-1][1] + 20
                      and s, 30, "the bot to go on cycling while Mission Control is dead")
    samples.append((during["heartbeat"]["pid"], during["heartbeat"]["cycle"], during["heartbeat"]["venue"]))
    live.mc = start_mc(live.home, live.logs, "mc-restarted")
    with live.mc.client() as c:
        wait_for(lambda: c.get("/healthz").json()["bot"] == "up", 30, "the restarted Mission Control to see the bot up")
    samples.append(beat(live))
    pids = {s[0] for s in samples}
    assert pids == {bot_pid}, "the bot never restarted"
    cycles = [s[1] for s in samples]
    assert cycles == sorted(cycles) and len(set(cycles)) == len(cycles)
    # contiguous: each cycle advanced venue time by exactly one period, so no cycle was skipped or repeated
    c0, v0 = samples[0][1], samples[0][2]
    for _, cycle, venue in samples:
        assert venue - v0 == pytest.approx(cycle - c0)
    assert "Traceback" not in live.bot.stderr()


def test_killed_bot_is_down_on_healthz_and_events(live: Live) -> None:
    with live.mc.client() as c:
        # the wall period is measured from heartbeats (until two are seen it is the venue period):
        # 1 s of venue time at speed 5 is about 0.2 s
        health = wait_for(lambda: (h := c.get("/healthz").json())["bot"] == "up"
                          and h["wall_period_s"] < 1.0 and h, 30, "the bot up, its wall period measured")
        assert health["period_s"] == 1.0 and health["wall_period_s"] < 1.0
        assert health["down_after_s"] == pytest.approx(3 * health["wall_period_s"], rel=0.01)
        os.kill(live.bot.pid, signal.SIGKILL)
        live.bot.popen.wait(10)
        down = wait_for(lambda: (h := c.get("/healthz").json())["bot"] == "down" and h, 30, "healthz to say bot down")
        assert down["heartbeat_age_s"] > down["down_after_s"]
        assert down["down_after_s"] < 3 * down["period_s"]  # 3 of the bot's own (fast) periods, not 3 s
        with c.stream("GET", "/api/events", timeout=30) as res:
            for line in res.iter_lines():
                if line.startswith("data:") and '"bot":' in line:
                    assert json.loads(line[5:])["bot"] == "down"
                    break
        metrics = c.get("/metrics").text
        assert re.search(r'nonstop_bot_health\{state="down"\} 1\.0', metrics)
