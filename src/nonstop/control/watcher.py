"""Bot side of control.json: stat each cycle, read and validate only on change.

A bad document (not JSON, schema error, out-of-range value, unknown key or name,
a revision not above the applied one, a deleted file) is refused whole: the last
good one stays in force and `refused` says why until a good document is back.

Change detection is the file's (mtime, ctime, size, inode). Timestamps are coarse
(a kernel tick, or a second on some file systems), so two same-sized writes in one
tick could look identical: while the file's mtime is that recent the watcher
re-reads it each poll and compares the bytes (git's "racily clean" rule).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nonstop.control.explain import MAX_BYTES, ControlRejected, Known, load_known, parse
from nonstop.control.schema import ControlDoc, Mode

RACY_S = 2.0  # mtime this close to now: the stat signature alone cannot be trusted


@dataclass
class Refusal:
    revision: int | None
    reason: str
    time: float

    def as_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "reason": self.reason, "time": self.time}


def startup_doc() -> ControlDoc:
    """In force before any valid control.json was read: no trading until one is."""
    return ControlDoc(mode=Mode.PAUSED, updated_by="nonstop (no valid control.json yet)")


def load_initial(path: Path, known: Known | None = None) -> ControlDoc | None:
    """The valid document at `path`, or None (missing or refused; the watcher reports why)."""
    try:
        return parse(path.read_bytes(), known if known is not None else load_known(path.parent / "nonstop.toml"))
    except (OSError, ControlRejected):
        return None
    except Exception:  # noqa: BLE001  (whatever a file holds must not stop the bot from starting)
        return None


class ControlWatcher:
    """Owns the control in force. `initial` None: PAUSED until a valid document is read."""

    def __init__(self, path: Path, initial: ControlDoc | None = None, known: Known | None = None) -> None:
        self.path = path
        self.doc = initial or startup_doc()
        self.applied_revision = 0 if initial is None else initial.revision
        self.refused: Refusal | None = None
        self.known = known if known is not None else load_known(path.parent / "nonstop.toml")
        self._sig: tuple[int, ...] | None = None
        self._last_raw: bytes | None = None

    def poll(self, wall: float) -> ControlDoc | None:
        """Return the new document when a valid newer one appeared; None otherwise. Never raises."""
        try:
            return self._poll(wall)
        except Exception as exc:  # noqa: BLE001  (the bot must outlive any file a person can write)
            self._refuse(None, f"control.json: {type(exc).__name__}: {exc}"[:300], wall)
            return None

    def _poll(self, wall: float) -> ControlDoc | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._sig != (0,):
                self._sig, self._last_raw = (0,), None
                self._refuse(None, f"control.json: {self.path}: missing; allowed: a control document "
                                   f"(recreate it with `nonstop ctl --home {self.path.parent} restore`)", wall)
            return None
        sig = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        racy = time.time() - st.st_mtime_ns / 1e9 < RACY_S
        if sig == self._sig and not racy:
            return None
        self._sig = sig
        if st.st_size > MAX_BYTES:
            self._last_raw = None
            self._refuse(None, f"control.json: {st.st_size} bytes: too large; allowed: at most {MAX_BYTES} bytes",
                         wall)
            return None
        raw = self.path.read_bytes()
        if raw == self._last_raw:
            return None
        self._last_raw = raw
        try:
            doc = parse(raw, self.known)
        except ControlRejected as exc:
            self._refuse(_claimed_revision(raw), str(exc), wall)
            return None
        if doc.revision <= self.applied_revision:
            if doc.revision == self.applied_revision and doc == self.doc:
                self.refused = None  # the applied document is back on disk
                return None
            self._refuse(doc.revision, f"revision: {doc.revision}: not above the applied revision; "
                                       f"allowed: > {self.applied_revision} (write through `nonstop ctl`)", wall)
            return None
        self.doc = doc
        self.applied_revision = doc.revision
        self.refused = None
        return doc

    def _refuse(self, revision: int | None, reason: str, wall: float) -> None:
        self.refused = Refusal(revision, f"{reason}; keeping revision {self.applied_revision}", wall)


def _claimed_revision(raw: bytes) -> int | None:
    try:
        value = json.loads(raw).get("revision")
    except Exception:  # noqa: BLE001
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
