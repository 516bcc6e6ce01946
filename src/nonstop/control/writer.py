"""The one writer of control.json, used by `nonstop ctl` and by Mission Control.

Every write is a read-modify-write under an exclusive lock on HOME/control.lock
(fcntl.flock: it works between processes and between threads that open the lock
separately), with compare-and-swap on `revision`; the new document is validated
exactly as the bot validates it, written atomically (temp file in the same folder,
fsync, rename, fsync the folder), and audited (one line in audit.jsonl) before the
lock is released, so audit lines are in revision order and no update is lost.
"""

from __future__ import annotations

import copy
import fcntl
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from nonstop.control.audit import append_audit, audit_entry, json_diff, last_audited_revision, read_audit
from nonstop.control.explain import MAX_BYTES, ControlRejected, Known, load_known, parse, shown, validate
from nonstop.control.schema import ControlDoc, Mode
from nonstop.home.paths import Home

__all__ = ["ControlWriter", "ControlRejected", "StaleRevision", "WriteResult", "read_audit"]

KEEP_ROLLBACK_REQUESTS = 20  # older requests are dropped; ids (the revision that made them) keep growing


class StaleRevision(Exception):
    """The document moved on since the caller read it; `current` is the revision on disk."""

    def __init__(self, current: int, expected: int) -> None:
        self.current, self.expected = current, expected
        super().__init__(f"revision {expected} is stale: control.json is at revision {current}; re-read and retry")


@dataclass
class WriteResult:
    old: ControlDoc
    new: ControlDoc
    diff: list[dict[str, Any]] = field(default_factory=list)  # [{path, old, new}]

    @property
    def changed(self) -> bool:
        """False when the change changed nothing: then nothing was written and no audit line added."""
        return self.new.revision != self.old.revision


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def atomic_write(path: Path, text: str) -> None:
    """Temp file in the same folder, fsync, rename over `path`, fsync the folder."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), 0o644)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class ControlWriter:
    def __init__(self, home: Home) -> None:
        self.home = home
        self.lock_path = home.root / "control.lock"
        self._known: tuple[tuple[int, int] | None, Known | None] = (None, None)

    # -- reading -------------------------------------------------------------------------------

    def known(self) -> Known | None:
        """Slot ids and strategy modules of nonstop.toml (re-read when the file changes)."""
        try:
            st = os.stat(self.home.config)
            sig: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
        except OSError:
            sig = None
        if sig != self._known[0]:
            self._known = (sig, load_known(self.home.config) if sig else None)
        return self._known[1]

    def read(self) -> ControlDoc:
        """The document on disk, validated as the bot validates it; ControlRejected otherwise."""
        try:
            raw = self.home.control.read_bytes()
        except FileNotFoundError:
            raise ControlRejected("control.json", str(self.home.control), "missing",
                                  f"a control document; recreate one with `nonstop ctl --home {self.home.root} "
                                  f"restore`") from None
        return parse(raw, self.known())

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock

    def update(self, change: Callable[[dict[str, Any]], dict[str, Any]], *, actor: str,
               expect_revision: int | None = None) -> WriteResult:
        """Apply `change` (current doc as a plain dict -> new dict) as one new revision."""
        _check_actor(actor)
        with self.locked():
            old = self.read()
            if expect_revision is not None and expect_revision != old.revision:
                raise StaleRevision(old.revision, expect_revision)
            proposed = change(copy.deepcopy(old.model_dump(mode="json")))
            return self._commit(old, proposed, actor)

    def replace(self, new_doc: dict[str, Any], *, actor: str, expect_revision: int) -> WriteResult:
        """The whole document (revision and updated_* are the writer's to set)."""
        return self.update(lambda _old: copy.deepcopy(new_doc), actor=actor, expect_revision=expect_revision)

    def request_rollback(self, strategy: str, to_generation: int | None, *, actor: str) -> WriteResult:
        """Ask the bot to reinstate an earlier generation of `strategy` (None: the previous one)."""

        def change(doc: dict[str, Any]) -> dict[str, Any]:
            requests = doc.setdefault("requests", {})
            rollback = list(requests.get("rollback", []))
            rollback.append({"id": doc["revision"] + 1, "strategy": strategy, "to_generation": to_generation,
                             "requested_at": _now_iso(), "requested_by": actor})
            requests["rollback"] = rollback[-KEEP_ROLLBACK_REQUESTS:]
            return doc

        return self.update(change, actor=actor)

    def resume(self, *, actor: str, expect_revision: int | None = None) -> WriteResult:
        """ACTIVE, and lift a halt the bot declared itself (the daily-loss breaker); always a new revision."""

        def change(doc: dict[str, Any]) -> dict[str, Any]:
            requests = doc.setdefault("requests", {})
            requests["resume"] = int(requests.get("resume", 0)) + 1
            return {**doc, "mode": Mode.ACTIVE.value, "halt_reason": ""}

        return self.update(change, actor=actor, expect_revision=expect_revision)

    def restore(self, *, actor: str, status_revision: int = 0) -> WriteResult:
        """Rewrite a missing or unreadable control.json: defaults, PAUSED, at a revision above any seen."""
        _check_actor(actor)
        with self.locked():
            try:
                current = self.read()
            except ControlRejected:
                pass
            else:
                raise ControlRejected("control.json", f"revision {current.revision}", "is valid; nothing to restore",
                                      "restore only a missing or unreadable document; edit this one instead")
            base = max(last_audited_revision(self.home), status_revision, _revision_on_disk(self.home.control))
            proposed = {"mode": Mode.PAUSED.value, "halt_reason": "restored by nonstop ctl restore",
                        "revision": base + 1, "updated_at": _now_iso(), "updated_by": actor}
            new = validate(proposed, self.known())
            diff = json_diff({}, new.content())
            self._write(base, new, diff, actor)
            return WriteResult(ControlDoc(revision=max(base, 1), mode=Mode.PAUSED, updated_by="(unreadable)"),
                               new, diff)

    def _commit(self, old: ControlDoc, proposed: Any, actor: str) -> WriteResult:
        if not isinstance(proposed, dict):
            raise ControlRejected("document", shown(proposed), "not an object", "a JSON object")
        proposed = {**proposed, "revision": old.revision + 1, "updated_at": _now_iso(), "updated_by": actor}
        new = validate(proposed, self.known())
        diff = json_diff(old.content(), new.content())
        if not diff:
            return WriteResult(old, old, [])
        self._write(old.revision, new, diff, actor)
        return WriteResult(old, new, diff)

    def _write(self, old_revision: int, new: ControlDoc, diff: list[dict[str, Any]], actor: str) -> None:
        atomic_write(self.home.control, new.model_dump_json(indent=2) + "\n")
        append_audit(self.home, audit_entry(actor, old_revision, new.revision, diff))


def _check_actor(actor: str) -> None:
    if not isinstance(actor, str) or not (1 <= len(actor.strip()) <= 200):
        raise ControlRejected("actor", shown(actor), "not a name", "text of 1 to 200 characters (who made the change)")


def _revision_on_disk(path: Path) -> int:
    """The highest revision a broken document claims, even a truncated one (`"revision": N`)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return 0
    found = [int(m) for m in re.findall(rb'"revision"\s*:\s*(\d{1,16})', raw[:MAX_BYTES])]
    return max(found, default=0)
