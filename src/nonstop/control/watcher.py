"""Bot side of control.json: stat each cycle, read and validate only on change.

A bad document is refused whole; the last good one stays in force.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from nonstop.control.schema import ControlDoc


def describe_validation_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "document"
    value = err.get("input")
    shown = json.dumps(value, default=str)[:80] if not isinstance(value, dict) else "{...}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {shown}: {msg}"


@dataclass
class Refusal:
    revision: int | None
    reason: str
    time: float

    def as_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "reason": self.reason, "time": self.time}


class ControlWatcher:
    def __init__(self, path: Path, initial: ControlDoc | None = None) -> None:
        self.path = path
        self.doc = initial or ControlDoc()
        self.applied_revision = 0 if initial is None else initial.revision
        self.refused: Refusal | None = None
        self._sig: tuple[int, int, int] | None = None

    def poll(self, wall: float) -> ControlDoc | None:
        """Return the new document when a valid newer one appeared; None otherwise."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            if self._sig != (0, 0, 0):
                self._sig = (0, 0, 0)
                self.refused = Refusal(None, f"{self.path.name} is missing; keeping revision "
                                             f"{self.applied_revision}; restore it with `nonstop ctl show`", wall)
            return None
        sig = (st.st_mtime_ns, st.st_size, st.st_ino)
        if sig == self._sig:
            return None
        self._sig = sig
        try:
            raw = self.path.read_text(encoding="utf-8")
            data = json.loads(raw)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            self.refused = Refusal(None, f"not JSON ({exc}); keeping revision {self.applied_revision}", wall)
            return None
        revision = data.get("revision") if isinstance(data, dict) else None
        try:
            doc = ControlDoc.model_validate(data)
        except ValidationError as exc:
            self.refused = Refusal(revision if isinstance(revision, int) else None,
                                   f"{describe_validation_error(exc)}; keeping revision {self.applied_revision}", wall)
            return None
        if doc.revision <= self.applied_revision:
            if doc.revision == self.applied_revision and doc == self.doc:
                return None
            self.refused = Refusal(doc.revision, f"revision {doc.revision} is not above the applied "
                                                 f"{self.applied_revision}; allowed: > {self.applied_revision}", wall)
            return None
        self.doc = doc
        self.applied_revision = doc.revision
        return doc
