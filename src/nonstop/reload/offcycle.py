"""The registry's work after a cycle, in the slack of its period (`Engine.between_cycles`).

Nothing here changes which code runs: files the cycle's stats found changed are read, hashed
and planned, jobs go to the validator process, its results are
read, a validated unit's module bodies run into fresh module objects and its slots'
instances are built (swap.prepare), and after a swap its bookkeeping is done (history,
kept sources handed to the validator process to write, the code cache trimmed, the
manifest). The swap itself stays at the cycle's reload step, the safe point, which then
only rebinds what was made ready here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from nonstop.reload import swap
from nonstop.reload.units import still_valid

if TYPE_CHECKING:
    from nonstop.reload.registry import StrategyRegistry


def between_cycles(reg: "StrategyRegistry") -> None:
    if reg.scanner.observe():  # files the cycle's stats found changed: read, hashed, planned (jobs go out below)
        reg._plan(None, None)
    if reg._tidy_due:
        tidy(reg)
    elif reg._manifest_due:
        save_manifest(reg)
    outgoing, reg._outgoing = reg._outgoing, []
    for unit in outgoing:
        if reg._units.get(unit.key) is unit:  # not gone stale since the plan
            reg.validator.submit(reg._job(unit))
    for result in [] if reg.validator.idle else reg.validator.poll():
        for unit in reg._units.values():
            if unit.job_id == result.id:
                unit.result, reg._recheck = result, True
    for key, unit in list(reg._units.items()):  # a validated file unit is made ready at once, to swap next cycle
        if unit.origin == "file" and unit.prepared is None and unit.result is not None and unit.failure is None \
                and still_valid(unit, {n: entry.gen.sha256 for n, entry in reg.live.items()}):
            try:
                unit.prepared = swap.prepare(unit, reg.live, reg.store, reg._folder, reg._suffix)
                unit.prepared.instances = build_instances(reg, unit.prepared)
            except Exception as exc:
                unit.prepared = None
                reg._units.pop(key)
                reg._fail(unit, exc, "load")
            reg._recheck = True


def build_instances(reg: "StrategyRegistry", prep: swap.Prepared) -> dict[str, tuple[type, dict[str, Any], Any, Any]]:
    """The slots' instances of the new generation with the params in force now (`instance` checks them again
    when it is used)."""
    out = {}
    for slot in reg.slots:
        if slot.module in prep.modules:
            cls = getattr(prep.modules[slot.module], slot.class_name)
            params = reg.params(slot)
            out[slot.id] = (cls, dict(params), cls(dict(params)), None)
    return out


def tidy(reg: "StrategyRegistry") -> None:
    """After a swap: history and kept sources of the new generations, code no kept generation uses
    forgotten, the writes handed to the validator process; the manifest follows, at most once a second."""
    reg._tidy_due = False
    went_live, reg._went_live = reg._went_live, []
    for unit, gens in went_live:
        assert unit.result is not None
        for gen in gens:
            if gen.origin != "restart":
                reg.store.went_live(gen)
            imports = reg.live[gen.module].imports if gen.module in reg.live else ()
            reg.codes[(gen.module, gen.sha256)] = (unit.result.code[gen.module], imports)
    kept = {(n, g.sha256) for n, r in reg.store.records.items() for g in r.kept.values()}
    reg.codes = {k: v for k, v in reg.codes.items() if k in kept or reg.live.get(k[0]) is not None
                 and reg.live[k[0]].gen.sha256 == k[1]}
    reg._manifest_due = True
    save_manifest(reg)
    reg.persist()


def save_manifest(reg: "StrategyRegistry", now: bool = False) -> None:
    """The manifest only matters to the next start (kept files carry the numbers meanwhile): at most
    once a second, so that a burst of edits does not pay for it every time."""
    if reg._manifest_due and (now or time.monotonic() - reg._manifest_at >= 1.0):
        reg._manifest_due, reg._manifest_at = False, time.monotonic()
        reg.store.save()
        reg.persist()
