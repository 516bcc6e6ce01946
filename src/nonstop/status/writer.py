"""Publishes status.json atomically; building it is the engine's report, writing is here."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable

from nonstop.home.files import atomic_write_text


class StatusWriter:
    """Writes every publish, or at most once per `min_interval_s` of wall time (the last one always)."""

    def __init__(self, path: Path, build: Callable[[Any], dict[str, Any]], min_interval_s: float = 0.0) -> None:
        self.path = path
        self.build = build
        self.min_interval_s = min_interval_s
        self._last = 0.0
        self.writes = 0

    def publish(self, engine: Any, final: bool = False) -> None:
        now = time.monotonic()
        if not final and self.min_interval_s and now - self._last < self.min_interval_s:
            return
        self._last = now
        atomic_write_text(self.path, json.dumps(self.build(engine), separators=(",", ":")))
        self.writes += 1


def read_status(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
