"""The swap, in two reload steps so no single cycle pays for both halves.

prepare: run the validated code's module bodies into fresh module objects (dependencies
  first), with sys.modules put back as it was afterwards: nothing is live yet.
commit:  migrate memory (all cells, or none when a migrate raises), then bind the new
  modules in sys.modules and the live table, and drop every reference to the old ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from nonstop.home.config import SlotConfig
from nonstop.reload import loader, migrate
from nonstop.reload.generations import Generation, GenerationStore
from nonstop.reload.units import Unit


@dataclass
class Live:
    gen: Generation
    module: ModuleType
    versioned: str
    imports: tuple[str, ...]
    state_version: int
    cause: str  # the module whose change made this generation (itself, or a helper it imports)


@dataclass
class Prepared:
    modules: dict[str, ModuleType]
    versioned: dict[str, str]
    numbers: dict[str, int]
    instances: dict[str, tuple[type, dict[str, Any], Any, Any]] = field(default_factory=dict)  # see registry.instance


def state_version(module: ModuleType) -> int:
    try:
        return int(getattr(module, "STATE_VERSION", 0))
    except (TypeError, ValueError):
        return 0


def prepare(unit: Unit, live: dict[str, Live], store: GenerationStore, folder: str, suffix: str) -> Prepared:
    result = unit.result
    assert result is not None and result.failure is None
    numbers = {n: unit.numbers.get(n) or store.record(n).next_number for n in result.order}
    versioned = {n: f"{n}__g{numbers[n]}{suffix}" for n in result.order}
    txn = loader.Txn()
    try:
        modules = loader.execute(result.order, result.code, versioned, folder, {n: l.module for n, l in live.items()},
                                 txn)
    finally:
        txn.undo()
    return Prepared(modules, versioned, numbers)


def origin(name: str, unit: Unit, start: dict[str, str] | None, was_live: bool) -> str:
    if start is not None:
        return start.get(name, "start")
    if unit.origin != "file":
        return unit.origin if name == unit.cause else "dependency"
    return "file" if name in unit.cause.split(",") or not was_live else "dependency"


def commit(unit: Unit, prep: Prepared, live: dict[str, Live], slots: list[SlotConfig], memory: Any,
           wall: float, cycle: int, start: dict[str, str] | None = None) -> list[Generation]:
    """Make the prepared modules live; raises (changing nothing) when a migrate raises."""
    result = unit.result
    assert result is not None
    if memory is not None:
        cells = {}
        for slot in slots:
            module = prep.modules.get(slot.module)
            old = live.get(slot.module)
            if module is not None and (old is None or old.state_version != state_version(module)):
                cells.update(migrate.plan(memory, slot.id, getattr(module, slot.class_name), state_version(module)))
        migrate.commit(memory, cells)
    gens = []
    causes = unit.cause.split(",")
    for name in result.order:
        module, old = prep.modules[name], live.get(name)
        if old is not None:
            loader.forget(name, old.versioned, old.module)
        loader.bind(name, prep.versioned[name], module)
        kind = origin(name, unit, start, old is not None)
        note = "" if start is not None else unit.note if name == unit.cause or kind == "file" else \
            f"with {causes[0]} generation {prep.numbers.get(causes[0], '?')}"
        gen = Generation(name, prep.numbers[name], result.executed[name], unit.sources.get(name) or unit.ran.get(name, b""), wall, kind,
                         note, unit.seen_step, unit.stable_step, cycle)
        live[name] = Live(gen, module, prep.versioned[name], result.imports.get(name, ()), state_version(module),
                          causes[0] if kind == "dependency" else name)
        gens.append(gen)
    return gens
