"""Generations: every version of a module that went live, its number, hash and load time.

The store owns `HOME/strategies/.generations/`: the last `keep` sources of each module
(`<module>/g00004-<hash12>.py`, what a rollback reinstates) and `manifest.json` (numbering,
the order generations went live, a pin set by a rollback, the rollback request ids
already applied), so a restarted bot carries on where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_VERSION = 1


@dataclass
class Generation:
    module: str
    number: int
    sha256: str
    source: bytes
    loaded_at: float  # wall time it went live
    origin: str  # start | file | dependency | rollback | auto-rollback | restart
    note: str = ""
    cycle_seen: int = 0  # reload steps: the file's new content first seen, found stable, live
    cycle_stable: int = 0
    cycle_live: int = 0

    def summary(self) -> dict[str, Any]:
        return {"generation": self.number, "hash": self.sha256, "loaded_at": self.loaded_at, "origin": self.origin,
                "note": self.note, "cycle_seen": self.cycle_seen, "cycle_stable": self.cycle_stable,
                "cycle_live": self.cycle_live}


@dataclass
class ModuleRecord:
    name: str
    next_number: int = 1
    chain: list[int] = field(default_factory=list)  # generation numbers in the order they went live
    history: list[dict[str, Any]] = field(default_factory=list)
    kept: dict[int, Generation] = field(default_factory=dict)
    pinned_file_hash: str | None = None  # set by a rollback: this file content stays out until it changes

    def previous(self, live: int) -> int | None:
        """The generation live most recently before `live` among the lower-numbered ones (undo, not redo)."""
        for number in reversed(self.chain):
            if number < live and number in self.kept:
                return number
        lower = [n for n in self.kept if n < live]
        return max(lower) if lower else None


class GenerationStore:
    def __init__(self, folder: Path, keep: int = 20) -> None:
        self.folder = folder
        self.keep = max(keep, 2)
        self.records: dict[str, ModuleRecord] = {}
        self.applied_requests: list[int] = []
        self.ops: list[tuple[Any, ...]] = []  # file writes to hand to the validator process (see `take_ops`)

    def record(self, name: str) -> ModuleRecord:
        rec = self.records.get(name)
        if rec is None:
            rec = self.records[name] = ModuleRecord(name)
        return rec

    # -- persistence ------------------------------------------------------------------

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.json"

    def load(self) -> None:
        try:
            doc = json.loads(self.manifest.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
            return
        if not isinstance(doc, dict) or doc.get("version") != MANIFEST_VERSION:
            return
        self.applied_requests = [int(i) for i in doc.get("applied_requests", [])]
        for name, raw in doc.get("modules", {}).items():
            rec = self.record(name)
            rec.next_number = listed = int(raw.get("next", 1))
            rec.chain = [int(n) for n in raw.get("chain", [])]
            rec.history = list(raw.get("history", []))
            rec.pinned_file_hash = raw.get("pinned_file_hash")
            by_number = {int(h["generation"]): h for h in rec.history if "generation" in h}
            for path in sorted((self.folder / name).glob("g*.py")):  # written at once; the manifest lags
                try:
                    number = int(path.stem[1:].split("-", 1)[0])
                except ValueError:
                    continue
                meta = by_number.get(number, {})
                source = path.read_bytes()
                rec.kept[number] = Generation(name, number, hashlib.sha256(source).hexdigest(), source,
                                              float(meta.get("loaded_at", path.stat().st_mtime)),
                                              str(meta.get("origin", "file")), str(meta.get("note", "")))
                rec.next_number = max(rec.next_number, number + 1)  # never reuse a number a kept file has
            # Numbers only grow: a kept file numbered past the manifest's `next` went live after the manifest
            # was written (a kill within its one-second lag), so it is the newest link of the chain.
            rec.chain += [n for n in sorted(rec.kept) if n >= listed and n not in rec.chain]

    def save(self) -> None:
        """Queue the manifest for writing (a snapshot: history entries are never changed once made)."""
        doc = {"version": MANIFEST_VERSION, "applied_requests": self.applied_requests[-1000:],
               "modules": {n: {"next": r.next_number, "chain": r.chain[-200:], "history": list(r.history),
                               "pinned_file_hash": r.pinned_file_hash} for n, r in sorted(self.records.items())}}
        self.ops = [op for op in self.ops if op[1] != str(self.manifest)]  # only the newest manifest matters
        self.ops.append(("json", str(self.manifest), doc))

    def take_ops(self) -> list[tuple[Any, ...]]:
        """The file writes queued since the last call, in order (the caller has them carried out)."""
        ops, self.ops = self.ops, []
        return ops

    # -- generations going live -----------------------------------------------------------

    def went_live(self, gen: Generation) -> None:
        """Record a generation that just went live: history, chain, and its source kept on disk."""
        rec = self.record(gen.module)
        rec.next_number = max(rec.next_number, gen.number + 1)
        rec.chain.append(gen.number)
        del rec.chain[:-200]
        rec.history = [h for h in rec.history if h.get("generation") != gen.number or gen.origin != "restart"]
        rec.history.append(gen.summary())
        rec.history = rec.history[-self.keep:]
        if gen.number not in rec.kept:
            self.ops.append(("write", self._kept_path(gen.module, gen.number, gen.sha256), gen.source))
        rec.kept[gen.number] = gen
        for number in sorted(rec.kept)[:-self.keep]:
            old = rec.kept.pop(number)
            self.ops.append(("unlink", self._kept_path(gen.module, number, old.sha256)))

    def _kept_path(self, module: str, number: int, sha256: str) -> str:
        return f"{self.folder}/{module}/g{number:05d}-{sha256[:12]}.py"

    def kept_numbers(self, name: str) -> list[int]:
        return sorted(self.record(name).kept)
