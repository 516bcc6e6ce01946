"""Strategy memory: engine-owned dicts, one per slot and window, that survive reloads.

Each entry remembers the STATE_VERSION of the generation that wrote it, so the
reload machinery can migrate it when a new generation declares another version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class MemoryCell:
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 0


class MemoryStore:
    def __init__(self) -> None:
        self._cells: dict[tuple[str, str], MemoryCell] = {}
        # Bumped when a cell is replaced or dropped: a cell looked up under the same count is still the one held.
        self.changes = 0

    def cell(self, slot_id: str, slug: str, version: int) -> MemoryCell:
        key = (slot_id, slug)
        cell = self._cells.get(key)
        if cell is None:
            cell = self._cells[key] = MemoryCell(version=version)
        return cell

    def cells_of(self, slot_ids: set[str]) -> dict[tuple[str, str], MemoryCell]:
        return {k: c for k, c in self._cells.items() if k[0] in slot_ids}

    def replace(self, key: tuple[str, str], cell: MemoryCell) -> None:
        self._cells[key] = cell
        self.changes += 1

    def end_window(self, slug: str) -> None:
        for key in [k for k in self._cells if k[1] == slug]:
            del self._cells[key]
            self.changes += 1

    def snapshot(self) -> dict[str, dict[str, Any]]:
        return {f"{k[0]}@{k[1]}": dict(c.data) for k, c in self._cells.items()}
