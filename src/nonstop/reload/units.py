"""A unit: modules that are validated together and go live together, or not at all.

A file unit is a changed module plus every module importing it (see `graph.units`);
a rollback unit is a kept generation of one module plus its dependents. A unit
carries the exact bytes it was validated with, so a result is only used when those
bytes are still what should go live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nonstop.reload.protocol import Contract, Failure, Job, Result


@dataclass
class Unit:
    members: frozenset[str]  # modules re-executed when the unit goes live
    sources: dict[str, bytes]  # the member's source to run
    hashes: dict[str, str]
    origin: str  # file | rollback | auto-rollback
    cause: str  # the module whose change (or rollback) made this unit
    numbers: dict[str, int] = field(default_factory=dict)  # reinstated generation numbers (rollbacks)
    note: str = ""
    request: int | None = None
    job_id: int = 0
    result: Result | None = None
    ran: dict[str, bytes] = field(default_factory=dict)  # every source the last job may run, for the record
    prepared: Any = None  # swap.Prepared once the module bodies ran in this process
    seen_step: int = 0
    stable_step: int = 0

    @property
    def key(self) -> tuple[Any, ...]:
        base = tuple(sorted((n, self.hashes[n]) for n in self.members))
        return (self.origin, self.request, self.cause) + base if self.origin != "file" else ("file",) + base

    @property
    def failure(self) -> Failure | None:
        return self.result.failure if self.result is not None else None


def make_job(unit: Unit, job_id: int, folder: str, other_sources: dict[str, bytes], live: set[str],
             contracts: tuple[Contract, ...], soft_timeout_s: float) -> Job:
    """The validator's job: the unit's sources over every other local module's current source."""
    sources = {**other_sources, **unit.sources}
    report = frozenset(unit.members | (set(sources) - live))
    unit.ran = {n: sources[n] for n in report}
    return Job(job_id, folder, sources, tuple(sorted(unit.members)), report, contracts, soft_timeout_s)


def still_valid(unit: Unit, live_hashes: dict[str, str]) -> bool:
    """The result was computed against the helpers live now (none was swapped since)."""
    assert unit.result is not None
    for name, digest in unit.result.executed.items():
        if name in unit.members:
            if digest != unit.hashes[name]:
                return False
        elif name in live_hashes and digest != live_hashes[name]:
            return False
    return True
