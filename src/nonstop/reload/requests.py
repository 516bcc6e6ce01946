"""Rollback requests: from control.json (`nonstop ctl rollback`, Mission Control) and from the fault policy.

Each request id is applied once, across restarts (the ids live in the generations
manifest). A rollback reinstates a kept generation's source as a fresh module, with
every module importing it, without touching the file on disk; the file's current
content then stays out (pinned) until the file changes again.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from nonstop.reload import graph
from nonstop.reload.protocol import Result
from nonstop.reload.units import Unit

if TYPE_CHECKING:
    from nonstop.reload.registry import StrategyRegistry


class RequestBook:
    def __init__(self, registry: "StrategyRegistry") -> None:
        self.registry = registry
        self.applied: set[int] = set()
        self._queued: list[Unit] = []
        self.log: deque[dict[str, Any]] = deque(maxlen=50)

    def load(self, applied: list[int]) -> None:
        self.applied = set(applied)

    @property
    def queued(self) -> bool:
        return bool(self._queued)

    def take(self) -> list[Unit]:
        out, self._queued = self._queued, []
        return out

    def apply(self, control: Any) -> None:
        requests = getattr(getattr(control, "requests", None), "rollback", None) or []
        fresh = [r for r in requests if r.id not in self.applied]
        for req in fresh:
            self.applied.add(req.id)
            applied = self.registry.store.applied_requests
            applied.append(req.id)
            del applied[:-1000]  # ids only grow; control.json keeps far fewer requests than this
            who = getattr(req, "requested_by", "") or "control.json"
            self.rollback(req.strategy, req.to_generation, "rollback", req.id, f"request {req.id} by {who}")
        if fresh:
            self.registry.store.save()

    def auto_rollback(self, module: str, note: str) -> None:
        self.rollback(module, None, "auto-rollback", None, note)

    def rollback(self, strategy: str, to: int | None, origin: str, request: int | None, note: str) -> bool:
        reg = self.registry
        name = self._resolve(strategy)
        entry = {"id": request, "strategy": strategy, "to_generation": to, "origin": origin}
        if name is None:
            self.log.append({**entry, "outcome": f"refused: no loaded module or class named {strategy!r}"})
            return False
        live = reg.live[name]
        rec = reg.store.record(name)
        target = to if to is not None else rec.previous(live.gen.number)
        if target is None or target not in rec.kept:
            numbers = ", ".join(str(n) for n in sorted(rec.kept)) or "none"
            message = (f"{origin} request {request or ''}: generation {target if target is not None else '(previous)'} "
                       f"of {name} is not kept (kept: {numbers}); pick one of them with --to").replace("  ", " ")
            reg.failures[name] = {"file": f"{reg.home.strategies}/{name}.py", "line": 0, "message": message,
                                  "time": reg._wall(), "phase": "rollback"}
            self.log.append({**entry, "outcome": "refused: " + message})
            return False
        if target == live.gen.number and rec.kept[target].sha256 == live.gen.sha256:
            self.log.append({**entry, "outcome": f"nothing to do: generation {target} is live"})
            return False
        members = graph.dependents({n: l.imports for n, l in reg.live.items()}, [name])
        kept = rec.kept[target]
        sources = {n: (kept.source if n == name else reg.live[n].gen.source) for n in members}
        hashes = {n: (kept.sha256 if n == name else reg.live[n].gen.sha256) for n in members}
        unit = Unit(frozenset(members), sources, hashes, origin, name, {name: target}, note, request)
        unit.result = self._known(unit)
        self._queued.append(unit)
        self.log.append({**entry, "outcome": f"queued: generation {target} of {name}"})
        return True

    def _known(self, unit: Unit) -> Result | None:
        """A result made of code that already ran in this process, when every member's code is known."""
        known = [self.registry.codes.get((n, unit.hashes[n])) for n in unit.members]
        if any(k is None for k in known):
            return None
        imports = {n: k[1] for n, k in zip(unit.members, known) if k is not None}
        order = tuple(graph.dependency_order(imports, unit.members))
        code = {n: k[0] for n, k in zip(unit.members, known) if k is not None}
        return Result(0, None, order, code, dict(unit.hashes), imports)

    def _resolve(self, strategy: str) -> str | None:
        reg = self.registry
        name = strategy.removesuffix(".py")
        if name in reg.live:
            return name
        for slot in reg.slots:
            if slot.class_name == name:
                return slot.module
        return None
