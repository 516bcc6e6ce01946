"""State across generations: turn the old generation's memory into the new one's.

Memory is engine-owned (one dict per slot and window, `engine/memory.py`) and tagged
with the STATE_VERSION of the generation that wrote it. When a new generation declares
another version, its class's `migrate(memory, from_version)` (as Erlang's
`code_change`) gets a deep copy and returns the new dict. Nothing is written until
every cell migrated: a migrate that raises leaves all memory and the old generation
as they were. Without a migrate hook, memory of another version starts empty.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from nonstop.engine.memory import MemoryCell, MemoryStore


class MigrationError(Exception):
    def __init__(self, slot_id: str, from_version: int, to_version: int, cause: BaseException) -> None:
        super().__init__(f"migrate(memory, {from_version}) to STATE_VERSION {to_version} failed for slot "
                         f"{slot_id}: {type(cause).__name__}: {cause}")
        self.cause = cause


def plan(memory: MemoryStore, slot_id: str, cls: Any, version: int) -> dict[tuple[str, str], MemoryCell]:
    """The replacement cells for one slot's memory under `cls` (nothing for cells already at `version`)."""
    hook = getattr(cls, "migrate", None)
    out: dict[tuple[str, str], MemoryCell] = {}
    for key, cell in memory.cells_of({slot_id}).items():
        if cell.version == version:
            continue
        if not callable(hook):
            out[key] = MemoryCell({}, version)
            continue
        try:
            data = hook(copy.deepcopy(cell.data), cell.version)
            if not isinstance(data, Mapping):
                raise TypeError(f"migrate returned {type(data).__name__}, expected a dict")
        except Exception as exc:
            raise MigrationError(slot_id, cell.version, version, exc) from exc
        out[key] = MemoryCell(dict(data), version)
    return out


def commit(memory: MemoryStore, cells: dict[tuple[str, str], MemoryCell]) -> None:
    for key, cell in cells.items():
        memory.replace(key, cell)
