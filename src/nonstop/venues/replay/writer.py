"""MarketDataWriter: writes the market-data format (FORMAT.md). The recorder and the sim converter use it.

    with MarketDataWriter(path, source="polymarket") as w:
        w.write(received_at, [BookUpdate(...), TradePrint(...)])

Frames must come in non-decreasing receive time; calls with the same `t` are merged into one
frame. The file is written as `<path>.partial` and renamed on close, so a reader never sees a
half-written file; a crashed writer leaves only the `.partial`. It writes the format's latest
version; `version=1` writes the first one (for tests of the readers, and tools that only read it).
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from nonstop.venues.base import Event
from nonstop.venues.replay.format import FORMAT_NAME, FORMAT_VERSION, KINDS, Header, encode_frame, pack_frame

_DUMPS = json.JSONEncoder(separators=(",", ":"), allow_nan=False, check_circular=False).encode


class MarketDataWriter:
    def __init__(self, path: str | Path, source: str = "unknown", *, start_time: float | None = None,
                 period_s: float | None = None, meta: dict[str, Any] | None = None, compresslevel: int = 6,
                 version: int = FORMAT_VERSION) -> None:
        if version not in (1, FORMAT_VERSION):
            raise ValueError(f"this nonstop writes format version 1 or {FORMAT_VERSION}, not {version}")
        self.path = Path(path)
        self.version = version
        self._ids: dict[str, int] = {}  # version 2's token table: token id -> its number
        self.partial = self.path.with_name(self.path.name + ".partial")
        header = Header(format=FORMAT_NAME, version=version, source=source,
                        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        start_time=start_time, period_s=period_s, meta=meta or {})
        self._raw = open(self.partial, "wb")
        self._gz = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, compresslevel=compresslevel, mtime=0)
        self._gz.write(_DUMPS(header.model_dump(exclude_none=True)).encode() + b"\n")
        self._open: dict[str, Any] | None = None
        self.frames = 0
        self.events = 0
        self.last_t: float | None = None
        self.closed = False

    def write(self, t: float, events: Iterable[Event]) -> None:
        """Record what was received at time `t` (venue seconds). Account events are refused."""
        batch = list(events)
        if not batch:
            return
        if self.last_t is not None and t < self.last_t:
            raise ValueError(f"frame time {t} is before the previous frame's {self.last_t}; write in time order")
        frame = encode_frame(t, batch)
        if self._open is not None and self._open["t"] == t:
            for kind in KINDS:
                if kind in frame:
                    self._open.setdefault(kind, []).extend(frame[kind])
        else:
            self._flush()
            self._open = frame
        self.last_t = t
        self.events += len(batch)

    def _flush(self) -> None:
        if self._open is None:
            return
        if self.version == 1:
            ordered = {"t": self._open["t"], **{k: self._open[k] for k in KINDS if k in self._open}}
            self._gz.write(_DUMPS(ordered).encode() + b"\n")
        else:
            line, earlier = pack_frame(self._open, self._ids)
            self._gz.write(_DUMPS(line).encode() + b"\n")
            if earlier is not None:
                self._gz.write(_DUMPS(earlier).encode() + b"\n")
        self.frames += 1
        self._open = None

    def close(self) -> Path:
        """Write the end line and publish the file under its final name."""
        if self.closed:
            return self.path
        self._flush()
        end = {"end": {"frames": self.frames, "events": self.events, "last_t": self.last_t}}
        self._gz.write(_DUMPS(end).encode() + b"\n")
        self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        os.replace(self.partial, self.path)
        self.closed = True
        return self.path

    def abort(self) -> None:
        """Drop the file (an error happened); nothing is published."""
        if self.closed:
            return
        self.closed = True
        try:
            self._gz.close()
            self._raw.close()
        finally:
            self.partial.unlink(missing_ok=True)

    def __enter__(self) -> "MarketDataWriter":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
