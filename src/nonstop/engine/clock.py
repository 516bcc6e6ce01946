"""Clocks. No engine code reads time.time() directly: it is handed a Clock.

Venue time on a SimClock advances in exact steps set by the engine, so a run is
deterministic whatever the wall clock does; `speed` only decides how long the
engine sleeps between steps (None: never sleep, "--speed max").
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Venue time, unix seconds."""

    def wall(self) -> float:
        """Wall time, unix seconds (for heartbeats)."""

    def wait_until(self, venue_time: float) -> None:
        """Block until venue time reaches `venue_time` (a no-op when it already has)."""


class RealClock:
    """Venue time is wall time (live and paper trading on a real venue)."""

    def now(self) -> float:
        return time.time()

    def wall(self) -> float:
        return time.time()

    def wait_until(self, venue_time: float) -> None:
        delay = venue_time - time.time()
        if delay > 0:
            time.sleep(delay)


class SimClock:
    """Simulated venue time starting at `start`, `speed` venue seconds per wall second."""

    def __init__(self, start: float, speed: float | None = None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be > 0")
        self._now = float(start)
        self._speed = speed
        self._wall0 = time.monotonic()
        self._venue0 = float(start)

    @property
    def speed(self) -> float | None:
        return self._speed

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return time.time()

    def wait_until(self, venue_time: float) -> None:
        if venue_time <= self._now:
            return
        if self._speed is not None:
            due = self._wall0 + (venue_time - self._venue0) / self._speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self._now = float(venue_time)


def parse_speed(text: str) -> float | None:
    """'60' -> 60.0, 'max' -> None; ValueError with the fix otherwise."""
    if text.strip().lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--speed: {text!r} is not a number; give a factor > 0 such as 60, or 'max'") from None
    if not value > 0:
        raise ValueError(f"--speed: {text!r} must be > 0; give a factor such as 60, or 'max'")
    return value


def parse_duration(text: str) -> float:
    """'6h' / '90m' / '30s' / '2d' / '3600' -> seconds of venue time."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = text.strip().lower()
    try:
        if raw and raw[-1] in units:
            value = float(raw[:-1]) * units[raw[-1]]
        else:
            value = float(raw)
    except ValueError:
        raise ValueError(f"--duration: {text!r} is not a duration; use e.g. 30s, 90m, 6h, 2d") from None
    if value <= 0:
        raise ValueError(f"--duration: {text!r} must be > 0; use e.g. 30s, 90m, 6h, 2d")
    return value
