"""Runtime-fault policy: count decide() failures per slot; say when a new generation must go.

A generation that came from a file change (directly, or because a helper it imports
changed) and fails `threshold` consecutive decides on any slot is rolled back to the
previous generation by the engine itself, once per generation.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FaultPolicy:
    threshold: int = 3
    streak: dict[str, int] = field(default_factory=dict)  # slot id -> consecutive failures
    total: dict[str, int] = field(default_factory=dict)  # module -> failures since start
    overruns: dict[str, int] = field(default_factory=dict)  # module -> decides stopped by the watchdog
    _fired: set[int] = field(default_factory=set)  # load ids already rolled back

    def failed(self, slot_id: str, module: str, load_id: int, eligible: bool, overrun: bool) -> bool:
        """Count one failure; True when this generation must be rolled back now."""
        n = self.streak.get(slot_id, 0) + 1
        self.streak[slot_id] = n
        self.total[module] = self.total.get(module, 0) + 1
        if overrun:
            self.overruns[module] = self.overruns.get(module, 0) + 1
        if eligible and n >= self.threshold and load_id not in self._fired:
            self._fired.add(load_id)
            return True
        return False

    def ok(self, slot_id: str) -> None:
        self.streak.pop(slot_id, None)

    def reset(self, slot_ids: set[str]) -> None:
        for slot_id in slot_ids:
            self.streak.pop(slot_id, None)
