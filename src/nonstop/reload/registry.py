"""The strategy registry: modules of HOME/strategies as generations, resolved each cycle.

The engine never keeps a strategy class or instance across cycles itself: it asks
`instance(slot, params)` every cycle, which looks `module.ClassName` up in the live
generation and reuses an instance only while (class, params) hold. Everything that
changes which code runs happens in `reload_step`, the cycle's safe point:

  detect (scanner) -> validate off the cycle (validator process) -> wait until the
  file is stable and no slot of the unit has an order in flight -> swap (loader,
  memory migration, generations store), all or nothing.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from nonstop.errors import UserError
from nonstop.home.config import SlotConfig
from nonstop.home.paths import Home
from nonstop.reload import graph, loader, migrate
from nonstop.reload.faults import FaultPolicy
from nonstop.reload.generations import Generation, GenerationStore
from nonstop.reload.protocol import Contract, Failure, Result
from nonstop.reload.requests import RequestBook
from nonstop.reload.scanner import Scanner
from nonstop.reload.units import Unit, make_job, still_valid
from nonstop.reload.validator import Validator
from nonstop.reload.worker import where

_registries = itertools.count(1)


@dataclass
class ReloadSettings:
    settle_s: float = 0.05  # a new content goes live after this much wall time without a write
    validate_timeout_s: float = 2.0  # the validator interrupts a module body or constructor after this
    hard_grace_s: float = 2.0  # ... and is killed this much later (a body holding the GIL)
    keep: int = 20  # sources kept per module under .generations/
    rollback_after_failures: int = 3  # consecutive decide failures of a new generation before auto-rollback


@dataclass
class Live:
    gen: Generation
    module: ModuleType
    versioned: str
    imports: tuple[str, ...]
    state_version: int
    cause: str  # the module whose change made this generation (itself, or a helper it imports)


class StrategyRegistry:
    def __init__(self, home: Home, slots: list[SlotConfig], settings: ReloadSettings | None = None,
                 wall=time.time) -> None:  # type: ignore[no-untyped-def]
        self.home = home
        self.slots = slots
        self.settings = settings or ReloadSettings()
        self._wall = wall
        self._folder = str(home.strategies.resolve())
        serial = next(_registries)
        self._suffix = "" if serial == 1 else f"__r{serial}"
        self.scanner = Scanner(Path(self._folder), self.settings.settle_s)
        self.validator = Validator(Path(self._folder), self.settings.hard_grace_s)
        self.store = GenerationStore(home.generations, self.settings.keep)
        self.faults = FaultPolicy(self.settings.rollback_after_failures)
        self.requests = RequestBook(self)
        self.live: dict[str, Live] = {}
        self.failures: dict[str, dict[str, Any]] = {}
        self.pending: dict[str, list[str]] = {}
        self.swaps = 0
        self.cycle = 0  # reload steps so far: the engine's cycle number
        self._units: dict[tuple[Any, ...], Unit] = {}
        self._rejected: set[tuple[Any, ...]] = set()
        self._jobs = itertools.count(1)
        self._instances: dict[str, tuple[type, dict[str, Any], Any]] = {}
        self.codes: dict[tuple[str, str], tuple[bytes, tuple[str, ...]]] = {}  # (module, sha256) -> code, imports
        self._slot_params: dict[str, dict[str, Any]] = {}
        self._strategy_modules = {s.module for s in slots}

    # -- start ------------------------------------------------------------------------

    def load_all(self) -> None:
        """Load every slot's module before the first cycle; a broken file falls back to its last kept generation."""
        self.store.load()
        self.validator.start()
        self.scanner.settle_now()
        self.requests.load(self.store.applied_requests)
        units = [self._start_unit(n) for n in sorted(self._strategy_modules)]
        unit = Unit(frozenset().union(*(u.members for u in units)), {}, {}, "start", "")
        for u in units:
            unit.sources.update(u.sources)
            unit.hashes.update(u.hashes)
            unit.numbers.update(u.numbers)
        result = self._run_now(unit)
        if result.failure is not None:
            broken = result.failure.module if result.failure.module in unit.members else next(iter(unit.members))
            kept = self._start_unit(broken, from_kept=True)
            if kept.origin != "restart-kept":
                f = result.failure
                raise UserError(f"{f.file}:{f.line}: {f.message} ({f.phase}); fix the file, the bot has not started")
            self.failures[broken] = result.failure.as_dict(self._wall())
            unit.sources.update(kept.sources)
            unit.hashes.update(kept.hashes)
            unit.numbers.update(kept.numbers)
            result = self._run_now(unit)
            if result.failure is not None:
                f = result.failure
                raise UserError(f"{f.file}:{f.line}: {f.message} ({f.phase}); fix the file, the bot has not started")
            self.store.record(broken).pinned_file_hash = self.scanner.files[broken].sha256
        for name in result.order:
            rec = self.store.record(name)
            last = rec.kept.get(rec.chain[-1]) if rec.chain else None
            if name not in unit.numbers and last is not None and last.sha256 == result.executed[name]:
                unit.numbers[name] = last.number
        unit.result = result
        self._swap(unit, None, origin_of={n: ("restart" if n in unit.numbers else "start") for n in result.order})
        self.store.save()

    def _start_unit(self, name: str, from_kept: bool = False) -> Unit:
        obs = self.scanner.files.get(name)
        if obs is None or obs.missing:
            raise UserError(f"{self._folder}/{name}.py: missing; create it or fix `module` in nonstop.toml")
        rec = self.store.record(name)
        last = rec.kept.get(rec.chain[-1]) if rec.chain else None
        if last is not None and (from_kept or last.sha256 == obs.sha256 or rec.pinned_file_hash == obs.sha256):
            return Unit(frozenset({name}), {name: last.source}, {name: last.sha256}, "restart-kept", name,
                        {name: last.number})
        rec.pinned_file_hash = None
        return Unit(frozenset({name}), {name: obs.data}, {name: obs.sha256}, "start", name)

    def _run_now(self, unit: Unit) -> Result:
        job = self._job(unit, roots_live=set())
        return self.validator.run(job)

    # -- the safe point --------------------------------------------------------------------

    def reload_step(self, now: float, busy_slots: set[str], memory: Any) -> None:
        self.cycle += 1
        changed = self.scanner.poll(self.cycle)
        results = [] if self.validator.idle else self.validator.poll()
        if not (changed or results or self._units or self.requests.queued):
            return
        for result in results:
            for unit in self._units.values():
                if unit.job_id == result.id:
                    unit.result = result
        self._plan(busy_slots, memory)

    def _plan(self, busy: set[str], memory: Any) -> None:
        self.pending = {}
        wanted: dict[tuple[Any, ...], Unit] = {}
        for unit in self.requests.take():
            wanted[unit.key] = unit
        for unit in self._file_units():
            wanted[unit.key] = unit
        for key in list(self._units):
            if key not in wanted and self._units[key].origin == "file":
                del self._units[key]  # its sources went stale: the file changed again or was reverted
        self._rejected &= set(wanted)
        for key, unit in wanted.items():
            if key in self._rejected:
                self._note(unit, "refused: this content failed validation; fix the file")
            elif key not in self._units:
                self._units[key] = unit
                if unit.result is None:  # a rollback to code that already ran here needs no validator trip
                    self._submit(unit)
        self.validator.discard_queued({u.job_id for u in self._units.values()})
        for key, unit in list(self._units.items()):
            if self._advance(unit, busy, memory):
                self._units.pop(key, None)

    def _file_units(self) -> list[Unit]:
        targets: dict[str, Any] = {}
        for name, live in self.live.items():
            obs = self.scanner.files.get(name)
            if obs is None or obs.missing or not obs.sha256:
                continue
            rec = self.store.record(name)
            if obs.sha256 == live.gen.sha256:
                rec.pinned_file_hash = None  # the file agrees with what runs again
            elif obs.sha256 != rec.pinned_file_hash:
                targets[name] = obs
        units = []
        for members in graph.units(self._imports(), targets):
            sources = {n: (targets[n].data if n in targets else self.live[n].gen.source) for n in members}
            hashes = {n: (targets[n].sha256 if n in targets else self.live[n].gen.sha256) for n in members}
            cause = ",".join(sorted(set(targets) & members))
            unit = Unit(members, sources, hashes, "file", cause)
            unit.seen_step = max(targets[n].first_step for n in targets if n in members)
            units.append(unit)
        return units

    def _unstable(self, unit: Unit) -> list[str]:
        out = []
        for name in unit.members:
            obs = self.scanner.files.get(name)
            if obs is not None and obs.sha256 == unit.hashes[name] and name in self.live and \
                    unit.hashes[name] != self.live[name].gen.sha256 and not obs.stable:
                out.append(name)
        return out

    def _advance(self, unit: Unit, busy: set[str], memory: Any) -> bool:
        """Move a unit on; True when it is finished (live or refused)."""
        if unit.result is None:
            self._note(unit, "validating")
            return False
        unstable = self._unstable(unit) if unit.origin == "file" else []
        if unstable:
            self._note(unit, f"waiting for {', '.join(sorted(unstable))}.py to stay unchanged")
            return False
        if unit.failure is not None:
            self._refuse(unit, unit.failure)
            return True
        if not still_valid(unit, {n: l.gen.sha256 for n, l in self.live.items()}):
            unit.result = None
            self._submit(unit)  # a helper it ran against was swapped meanwhile: validate again
            self._note(unit, "validating")
            return False
        slots = sorted(s.id for s in self.slots if s.module in unit.members and s.id in busy)
        if slots:
            self._note(unit, f"deferred: order in flight on slot {', '.join(slots)}")
            return False
        unit.stable_step = max((self.scanner.files[n].stable_step for n in unit.members
                                if n in self.scanner.files), default=0)
        try:
            self._swap(unit, memory)
        except migrate.MigrationError as exc:
            file, line = where(exc.cause, self._folder, f"{self._folder}/{unit.cause or 'unknown'}.py")
            self._refuse(unit, Failure(unit.cause, file, line, str(exc)[:500], "migrate"))
        except Exception as exc:
            file, line = where(exc, self._folder, f"{self._folder}/{unit.cause or 'unknown'}.py")
            self._refuse(unit, Failure(unit.cause, file, line, f"{type(exc).__name__}: {exc}"[:500], "load"))
        return True

    def _refuse(self, unit: Unit, failure: Failure) -> None:
        """The old generation stays live; the failure goes on each module the person changed (or rolled back)."""
        info = failure.as_dict(self._wall())
        if unit.origin != "file":
            info["message"] = f"{unit.origin} to generation {unit.numbers.get(unit.cause)}: {info['message']}"
        for name in (unit.cause.split(",") if unit.cause else unit.members):
            self.failures[name] = info
        if unit.origin == "file":
            self._rejected.add(unit.key)

    def _note(self, unit: Unit, text: str) -> None:
        label = f"{unit.origin}: {text}" if unit.origin != "file" else text
        for name in (unit.cause.split(",") if unit.cause else unit.members):
            self.pending.setdefault(name, []).append(label)

    # -- validation ---------------------------------------------------------------------------

    def _job(self, unit: Unit, roots_live: set[str] | None = None) -> Any:
        live = set(self.live) if roots_live is None else roots_live
        others = {n: l.gen.source for n, l in self.live.items()}
        for name, obs in self.scanner.files.items():
            if name not in others and not obs.missing and obs.data:
                others[name] = obs.data
        contracts = tuple(Contract(m, c, tuple(p)) for (m, c), p in self._contracts(unit.members).items())
        unit.job_id = next(self._jobs)
        return make_job(unit, unit.job_id, self._folder, others, live - unit.members, contracts,
                        self.settings.validate_timeout_s)

    def _contracts(self, members: frozenset[str]) -> dict[tuple[str, str], list[dict[str, Any]]]:
        out: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for slot in self.slots:
            if slot.module in members:
                params = {**slot.params, **self._slot_params.get(slot.id, {})}
                out.setdefault((slot.module, slot.class_name), []).append(params)
        return out

    def _submit(self, unit: Unit) -> None:
        self.validator.submit(self._job(unit))

    # -- the swap ----------------------------------------------------------------------------------

    def _swap(self, unit: Unit, memory: Any, origin_of: dict[str, str] | None = None) -> None:
        result = unit.result
        assert result is not None and result.failure is None
        numbers = {n: unit.numbers.get(n) or self.store.record(n).next_number for n in result.order}
        versioned = {n: f"{n}__g{numbers[n]}{self._suffix}" for n in result.order}
        txn = loader.Txn()
        try:
            modules = loader.execute(result.order, result.code, versioned, self._folder,
                                     {n: l.module for n, l in self.live.items()}, txn)
            cells = {}
            for slot in self.slots:
                if slot.module in modules:
                    cls = getattr(modules[slot.module], slot.class_name)
                    if memory is not None:
                        cells.update(migrate.plan(memory, slot.id, cls, _state_version(modules[slot.module])))
        except BaseException:
            txn.undo()
            raise
        if memory is not None:
            migrate.commit(memory, cells)
        wall = self._wall()
        for name in result.order:
            old = self.live.get(name)
            if old is not None:
                loader.forget(name, old.versioned, old.module)
            origin = _origin(name, unit, origin_of, was_live=old is not None)
            note = unit.note if name == unit.cause or origin == "file" else \
                f"with {unit.cause} generation {numbers.get(unit.cause.split(',')[0], '?')}"
            gen = Generation(name, numbers[name], result.executed[name], unit.sources.get(name) or
                             self._source_of(name), wall, origin, "" if origin_of else note,
                             unit.seen_step, unit.stable_step, self.cycle)
            cause = unit.cause.split(",")[0] if origin == "dependency" else name
            self.live[name] = Live(gen, modules[name], versioned[name], result.imports.get(name, ()),
                                   _state_version(modules[name]), cause)
            if origin != "restart":
                self.store.went_live(gen)
            self.codes[(name, gen.sha256)] = (result.code[name], result.imports.get(name, ()))
        slots = {s.id for s in self.slots if s.module in modules}
        for slot_id in slots:
            self._instances.pop(slot_id, None)
        self.faults.reset(slots)
        if unit.origin in ("rollback", "auto-rollback"):
            obs = self.scanner.files.get(unit.cause)
            self.store.record(unit.cause).pinned_file_hash = obs.sha256 if obs and not obs.missing else None
        elif unit.origin == "file":
            for name in unit.cause.split(","):
                self.store.record(name).pinned_file_hash = None
        self._drop_orphans()
        keep = {(n, g.sha256) for n, r in self.store.records.items() for g in r.kept.values()}
        self.codes = {k: v for k, v in self.codes.items() if k in keep or k[0] in self.live and
                      self.live[k[0]].gen.sha256 == k[1]}
        self.swaps += 1
        if origin_of is None:
            self.store.save()

    def _source_of(self, name: str) -> bytes:
        obs = self.scanner.files.get(name)
        return obs.data if obs is not None else b""

    def _drop_orphans(self) -> None:
        used = graph.reachable(self._imports(), self._strategy_modules)
        for name in [n for n in self.live if n not in used]:
            old = self.live.pop(name)
            loader.forget(name, old.versioned, old.module)

    def _imports(self) -> dict[str, tuple[str, ...]]:
        return {n: l.imports for n, l in self.live.items()}

    # -- what the engine calls each cycle ------------------------------------------------------------

    def instance(self, slot: SlotConfig, params: dict[str, Any]) -> Any:
        cls = getattr(self.live[slot.module].module, slot.class_name)  # resolved through the module every cycle
        cached = self._instances.get(slot.id)
        if cached is not None and cached[0] is cls and cached[1] == params:
            return cached[2]
        inst = cls(dict(params))
        self._instances[slot.id] = (cls, dict(params), inst)
        return inst

    def generation(self, module: str) -> int:
        return self.live[module].gen.number

    def state_version(self, module: str) -> int:
        return self.live[module].state_version

    def decide_failed(self, slot: SlotConfig, exc: BaseException) -> None:
        live = self.live.get(slot.module)
        file, line = where(exc, self._folder, f"{self._folder}/{slot.module}.py")
        overrun = type(exc).__name__ == "DecideOverrun"
        self.failures[slot.module] = {"file": file, "line": line, "message": f"{type(exc).__name__}: {exc}"[:500],
                                      "time": self._wall(), "phase": "overrun" if overrun else "decide",
                                      "slot": slot.id}
        if live is None:
            return
        eligible = live.gen.origin in ("file", "dependency")
        if self.faults.failed(slot.id, slot.module, id(live.module), eligible, overrun):
            self.requests.auto_rollback(live.cause, f"after {self.faults.threshold} consecutive decide failures "
                                                    f"on slot {slot.id}: {type(exc).__name__}: {exc}"[:300])

    def decide_ok(self, slot: SlotConfig) -> None:
        self.faults.ok(slot.id)

    def apply_requests(self, control: Any) -> None:
        self._slot_params = dict(getattr(control, "slot_params", {}) or {})
        self.requests.apply(control)

    # -- reporting ------------------------------------------------------------------------------------

    def status(self) -> list[dict[str, Any]]:
        out = []
        for name, live in sorted(self.live.items()):
            obs = self.scanner.files.get(name)
            file_hash = obs.sha256 if obs is not None and not obs.missing and obs.sha256 else None
            rec = self.store.record(name)
            out.append({
                "name": name, "module": f"{name}.py", "generation": live.gen.number, "hash": live.gen.sha256,
                "loaded_at": live.gen.loaded_at, "file_hash": file_hash, "differs_from_file": file_hash != live.gen.sha256,
                "pending": list(self.pending.get(name, [])), "last_failure": self.failures.get(name),
                "history": rec.history[-10:], "role": "strategy" if name in self._strategy_modules else "helper",
                "origin": live.gen.origin, "pinned": rec.pinned_file_hash is not None, "imports": list(live.imports),
                "kept": self.store.kept_numbers(name), "state_version": live.state_version,
                "decide_failures": self.faults.total.get(name, 0), "overruns": self.faults.overruns.get(name, 0)})
        return out

    def close(self) -> None:
        self.validator.close()
        self.store.disk.close()
        for name, live in self.live.items():
            loader.forget(name, live.versioned, live.module)
        self._instances.clear()


def _origin(name: str, unit: Unit, origin_of: dict[str, str] | None, was_live: bool) -> str:
    if origin_of is not None:
        return origin_of.get(name, "start")
    if unit.origin != "file":
        return unit.origin if name == unit.cause else "dependency"
    return "file" if name in unit.cause.split(",") or not was_live else "dependency"


def _state_version(module: ModuleType) -> int:
    try:
        return int(getattr(module, "STATE_VERSION", 0))
    except (TypeError, ValueError):
        return 0
