"""Start: every slot's module loaded before the first cycle, carrying on from the last run.

Nothing trades yet, so validation runs in this process (a Python loop in a body is still
stopped by the CPU alarm) and a restart does not wait for the validator process to boot.
A module whose file still holds what was live when the bot stopped (or was pinned by a
rollback) keeps its generation number; a file broken while the bot was stopped falls back
to the last kept generation, and says so; with nothing to fall back to the start is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nonstop.errors import UserError
from nonstop.reload import swap
from nonstop.reload.protocol import Failure, Result
from nonstop.reload.scanner import RESERVED
from nonstop.reload.units import Unit
from nonstop.reload.worker import validate_here

if TYPE_CHECKING:
    from nonstop.reload.registry import StrategyRegistry


def load_all(reg: "StrategyRegistry") -> None:
    reg.validator.start()  # boots beside the start-up work below, ready for the first edit
    reg.store.load()
    reg.scanner.settle_now()
    reg.requests.load(reg.store.applied_requests)
    unit = Unit(frozenset(), {}, {}, "start", "")
    for name in sorted({s.module for s in reg.slots}):
        _add_source(reg, unit, name, from_kept=False)
    result = _validate(reg, unit)
    if result.failure is not None:
        broken = result.failure.module if result.failure.module in unit.members else min(unit.members)
        if not _add_source(reg, unit, broken, from_kept=True):
            raise _error(result.failure)
        reg.failures[broken] = result.failure.as_dict(reg._wall())
        reg.store.record(broken).pinned_file_hash = reg.scanner.files[broken].sha256
        result = _validate(reg, unit)
        if result.failure is not None:
            raise _error(result.failure)
    for name in result.order:  # helpers already known carry on with their number
        last = _last_kept(reg, name)
        if name not in unit.numbers and last is not None and last.sha256 == result.executed[name]:
            unit.numbers[name] = last.number
    unit.result = result
    prep = swap.prepare(unit, reg.live, reg.store, reg._folder, reg._suffix)
    reg._commit(unit, prep, None, {n: ("restart" if n in unit.numbers else "start") for n in result.order})
    reg._tidy()


def _validate(reg: "StrategyRegistry", unit: Unit) -> Result:
    """In this process; outside the main thread (no signals there) the validator process does it."""
    job = reg._job(unit, live=set())
    return validate_here(job) or reg.validator.run(job)


def _last_kept(reg: "StrategyRegistry", name: str) -> Any:
    rec = reg.store.record(name)
    return rec.kept.get(rec.chain[-1]) if rec.chain else None


def _add_source(reg: "StrategyRegistry", unit: Unit, name: str, from_kept: bool) -> bool:
    """The source a module starts with: its file, or the generation that was live when the bot stopped
    (when the file still has that content, or a rollback pinned it, or the file is broken)."""
    folder = reg._folder
    obs = reg.scanner.files.get(name)
    if name in RESERVED:
        raise UserError(f"{folder}/{name}.py: the name {name!r} is a Python standard module; rename the "
                        f"file and `module` in nonstop.toml")
    if obs is None or obs.missing:
        raise UserError(f"{folder}/{name}.py: missing; create it or fix `module` in nonstop.toml")
    rec, last = reg.store.record(name), _last_kept(reg, name)
    unit.members = unit.members | {name}
    if last is not None and (from_kept or obs.sha256 in (last.sha256, rec.pinned_file_hash)):
        unit.sources[name], unit.hashes[name], unit.numbers[name] = last.source, last.sha256, last.number
        return True
    rec.pinned_file_hash = None
    unit.sources[name], unit.hashes[name] = obs.data, obs.sha256
    unit.numbers.pop(name, None)
    return False


def _error(f: Failure) -> UserError:
    return UserError(f"{f.file}:{f.line}: {f.message} ({f.phase}); fix the file, the bot has not started")
