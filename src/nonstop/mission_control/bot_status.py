"""What Mission Control knows about the bot: status.json, read on change, and the heartbeat's health.

The bot's cycle period is `heartbeat.period_s` of venue time; on the simulator venue
time runs `speed` times faster than the wall, so the wall period is estimated from
two heartbeats (Δwall / Δcycle). "bot down" is a heartbeat older than 3 wall periods.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DOWN_AFTER_PERIODS = 3.0
LATE_AFTER_PERIODS = 1.5
# The floor of the wall period used for the verdict. At sim speeds the bot's wall period can be
# a few ms, but its status writes are throttled (50 ms), the page hears of a new heartbeat at most
# 5 times a second through a 0.1 s poll, and a loaded machine jitters: a heartbeat 0.3 s old is
# normal there, so "bot down" waits at least 1 s (3 x 1/3 s). At speed 1 (live) the period rules.
MIN_WALL_PERIOD_S = 1 / 3


@dataclass(frozen=True)
class Health:
    bot: str  # "up" | "late" | "down" | "no status"
    heartbeat_age_s: float | None
    period_s: float | None  # the bot's cycle period, venue seconds
    wall_period_s: float | None  # the same in wall seconds, as observed
    down_after_s: float | None
    cycle: int | None
    pid: int | None
    mode: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def classify(age: float, wall_period: float) -> str:
    """Pure: the heartbeat's colour from its age and the wall period, compared as /healthz reports them
    (to the ms), so that "down" always reads as heartbeat_age_s > down_after_s."""
    if age > round(DOWN_AFTER_PERIODS * wall_period, 3):
        return "down"
    if age > round(LATE_AFTER_PERIODS * wall_period, 3):
        return "late"
    return "up"


class StatusSource:
    """Owns the last status.json read and the heartbeat history it was seen with."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sig: tuple[int, int, int] | None = None
        self._doc: dict[str, Any] | None = None
        self._raw: bytes = b""
        self.version = 0  # grows each time a different document is read
        self._last_beat: tuple[int, int, float] | None = None  # (pid, cycle, wall)
        self._periods: deque[float] = deque(maxlen=8)

    def read(self) -> dict[str, Any] | None:
        """The latest status document; stats the file and reads it only when it changed."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self._doc
        sig = (st.st_mtime_ns, st.st_size, st.st_ino)
        if sig == self._sig:
            return self._doc
        try:
            raw = self.path.read_bytes()
            doc = json.loads(raw)
        except (OSError, ValueError):
            return self._doc  # the bot writes atomically; a failed read is retried on the next call
        self._sig = sig
        if raw != self._raw and isinstance(doc, dict):
            self._raw, self._doc = raw, doc
            self.version += 1
            self._observe(doc)
        return self._doc

    def _observe(self, doc: dict[str, Any]) -> None:
        hb = doc.get("heartbeat") or {}
        try:
            beat = (int(hb["pid"]), int(hb["cycle"]), float(hb["wall"]))
        except (KeyError, TypeError, ValueError):
            return
        last = self._last_beat
        if last is not None and last[0] != beat[0]:
            self._periods.clear()  # another bot process: its speed may differ
        elif last is not None and beat[1] > last[1] and beat[2] > last[2]:
            self._periods.append((beat[2] - last[2]) / (beat[1] - last[1]))
        self._last_beat = beat

    def wall_period(self, period_s: float) -> float:
        if not self._periods:
            return max(period_s, MIN_WALL_PERIOD_S)  # one heartbeat seen: assume real time
        return max(statistics.median(self._periods), MIN_WALL_PERIOD_S)

    def health(self, now: float | None = None) -> Health:
        doc = self.read()
        now = time.time() if now is None else now
        try:
            hb = doc["heartbeat"]  # type: ignore[index]
            wall, period = float(hb["wall"]), float(hb["period_s"])
        except (TypeError, KeyError, ValueError):
            return Health("no status", None, None, None, None, None, None, None)
        wall_period = self.wall_period(period)
        age = round(max(0.0, now - wall), 3)
        return Health(classify(age, wall_period), age, period, round(wall_period, 4),
                      round(DOWN_AFTER_PERIODS * wall_period, 3), hb.get("cycle"), hb.get("pid"),
                      (doc.get("control") or {}).get("mode"))  # type: ignore[union-attr]
