"""The strategy registry: modules of HOME/strategies as generations, resolved each cycle.

The engine never keeps a strategy class or instance across cycles itself: it asks
`instance(slot, params)` every cycle, which looks `module.ClassName` up in the live
generation and reuses an instance only while (class, params) hold. Everything that
changes which code runs happens in `reload_step`, the cycle's safe point:

  detect (scanner) -> validate off the cycle (validator process) -> run the new module
  bodies (swap.prepare) -> once the file is stable and no slot of the unit has an order
  in flight, swap (swap.commit: memory migration, sys.modules, generations) -- all or nothing.

Inside the cycle run only the modules' stats, control's rollback requests and the swap itself.
The rest -- reading and hashing changed files, planning their units, sending jobs, reading
results, running module bodies, the .generations/ bookkeeping -- is done by `between_cycles`
(offcycle.py), which the engine calls after each cycle, in the slack of its period: the cycle
pays for what must happen at the safe point and for nothing else.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nonstop.home.config import SlotConfig
from nonstop.home.paths import Home
from nonstop.reload import graph, loader, migrate, offcycle, startup, swap
from nonstop.reload.faults import FaultPolicy
from nonstop.reload.generations import GenerationStore
from nonstop.reload.protocol import Contract, Failure, Job
from nonstop.reload.requests import RequestBook
from nonstop.reload.scanner import Scanner
from nonstop.reload.swap import Live
from nonstop.reload.units import Unit, make_job, still_valid
from nonstop.reload.validator import Validator
from nonstop.reload.worker import where

_registries = itertools.count(1)

__all__ = ["ReloadSettings", "StrategyRegistry", "Live"]


@dataclass
class ReloadSettings:
    settle_s: float = 0.05  # a new content goes live after this much wall time without a write
    validate_timeout_s: float = 2.0  # the validator interrupts a module body or constructor after this
    hard_grace_s: float = 2.0  # ... and is killed this much later (a body holding the GIL)
    keep: int = 20  # sources kept per module under .generations/
    rollback_after_failures: int = 3  # consecutive decide failures of a new generation before auto-rollback


class StrategyRegistry:
    def __init__(self, home: Home, slots: list[SlotConfig], settings: ReloadSettings | None = None,
                 wall=time.time) -> None:  # type: ignore[no-untyped-def]
        self.home = home
        self.slots = slots
        self.settings = settings or ReloadSettings()
        self._wall = wall
        self._folder = str(home.strategies.resolve())
        serial = next(_registries)
        self._suffix = "" if serial == 1 else f"__r{serial}"  # two bots in one process (tests) keep apart
        self.scanner = Scanner(Path(self._folder), self.settings.settle_s)
        self.validator = Validator(Path(self._folder), self.settings.hard_grace_s)
        self.store = GenerationStore(home.generations, self.settings.keep)
        self.faults = FaultPolicy(self.settings.rollback_after_failures)
        self.requests = RequestBook(self)
        self.live: dict[str, Live] = {}
        self.failures: dict[str, dict[str, Any]] = {}  # module -> last failure (file, line, message, time, phase)
        self.pending: dict[str, list[str]] = {}  # module -> what its next generation waits for
        self.codes: dict[tuple[str, str], tuple[bytes, tuple[str, ...]]] = {}  # (module, sha256) -> code, imports
        self.swaps = 0
        self.cycle = 0  # reload steps so far: the engine's cycle number
        self._units: dict[tuple[Any, ...], Unit] = {}
        self._recheck = False  # a unit can move on without news (ready to swap, or deferred by an order)
        self._refused: dict[str, list[str]] = {}  # module -> notes of contents refused, kept until the next plan
        self._outgoing: list[Unit] = []  # units to send to the validator, after the cycle
        self._went_live: list[tuple[Unit, list[Any]]] = []  # swapped, bookkeeping not done yet
        self._tidy_due = False  # a swap happened last step: kept sources to write, code cache to trim
        self._manifest_due = False
        self._manifest_at = 0.0
        self._rejected: set[tuple[Any, ...]] = set()
        self._jobs = itertools.count(1)
        self._instances: dict[str, tuple[type, dict[str, Any], Any, Any]] = {}  # slot: cls, params, obj, params seen
        self._slot_params: dict[str, dict[str, Any]] = {}
        self._strategy_modules = {s.module for s in slots}

    # -- start ------------------------------------------------------------------------

    def load_all(self) -> None:
        """Load every slot's module before the first cycle (see `startup`)."""
        startup.load_all(self)

    # -- the safe point --------------------------------------------------------------------

    def reload_step(self, now: float, busy_slots: set[str], memory: Any, scan: bool = True) -> None:
        """The safe point: stat the modules, and swap what was made ready between cycles. `scan` False: the
        folder is not looked at this cycle (a backtest's pace); queued work still moves."""
        self.cycle += 1
        settled = self.scanner.poll(self.cycle) if scan else False
        if self.requests.queued:
            self._plan(busy_slots, memory)  # a rollback asked by control: planned, and swapped when it can be
        elif settled or self._recheck:
            self._advance_all(busy_slots, memory)
        # else: units waiting for the validator or for a file to settle: nothing can move this cycle

    def between_cycles(self) -> None:
        """After the cycle: changed files read and planned, jobs out, results in, validated module bodies
        run. Nothing goes live here."""
        offcycle.between_cycles(self)

    def _plan(self, busy: set[str] | None, memory: Any) -> None:
        """Units for control's requests and for the files' contents; then each moves on. `busy` None:
        between cycles, where requests wait for the cycle and nothing is swapped."""
        wanted = {u.key: u for u in [*(self.requests.take() if busy is not None else []), *self._file_units()]}
        for key in list(self._units):
            if key not in wanted and self._units[key].origin == "file":
                del self._units[key]  # its sources went stale: the file changed again or was reverted
        self._rejected &= set(wanted)
        self._refused = {}
        for key, unit in wanted.items():
            if key in self._rejected:
                for name in unit.cause.split(","):
                    self._refused.setdefault(name, []).append("refused: this content failed validation; fix the file")
            elif key not in self._units:
                self._units[key] = unit
                if unit.result is None:  # a rollback to code that already ran here needs no validator trip
                    self._submit(unit)
        self.validator.discard_queued({u.job_id for u in self._units.values()})
        self._advance_all(busy, memory)

    def _advance_all(self, busy: set[str] | None, memory: Any) -> None:
        self.pending = {name: list(notes) for name, notes in self._refused.items()}
        self._recheck = False
        for key, unit in list(self._units.items()):
            if self._advance(unit, busy, memory):
                self._units.pop(key, None)

    def _file_units(self) -> list[Unit]:
        targets: dict[str, Any] = {}
        for name, live in self.live.items():
            obs = self.scanner.files.get(name)
            if obs is None or obs.missing or not obs.sha256:
                continue  # a deleted file: the live generation runs on
            rec = self.store.record(name)
            if obs.sha256 == live.gen.sha256:
                rec.pinned_file_hash = None  # the file agrees with what runs again
            elif obs.sha256 != rec.pinned_file_hash:
                targets[name] = obs
        units = []
        for members in graph.units(self._imports(), targets):
            sources = {n: (targets[n].data if n in targets else self.live[n].gen.source) for n in members}
            hashes = {n: (targets[n].sha256 if n in targets else self.live[n].gen.sha256) for n in members}
            unit = Unit(members, sources, hashes, "file", ",".join(sorted(set(targets) & members)))
            unit.seen_step = max(targets[n].first_step for n in targets if n in members)
            units.append(unit)
        return units

    def _unstable(self, unit: Unit) -> list[str]:
        return sorted(n for n in unit.members if n in self.live and unit.hashes[n] != self.live[n].gen.sha256
                      and not (self.scanner.files[n].stable and self.scanner.files[n].sha256 == unit.hashes[n]))

    def _advance(self, unit: Unit, busy: set[str] | None, memory: Any) -> bool:
        """Move a unit on by one step; True when it is finished (live or refused)."""
        if unit.result is None:
            self._note(unit, "validating")
            return False
        unstable = self._unstable(unit) if unit.origin == "file" else []
        if unit.failure is not None:
            if unstable:  # a torn or still-changing file: no verdict until it settles
                self._note(unit, f"waiting for {', '.join(unstable)}.py to stay unchanged")
                return False
            self._refuse(unit, unit.failure)
            return True
        if not still_valid(unit, {n: l.gen.sha256 for n, l in self.live.items()}):
            unit.result, unit.prepared = None, None
            self._submit(unit)  # a helper it ran against was swapped meanwhile: validate again
            self._note(unit, "validating")
            return False
        if unit.prepared is None:
            if unit.origin == "file":  # its module bodies run after this cycle (between_cycles); it swaps at the next
                self._note(unit, "loading")
                return False
            try:  # a rollback runs them now: the live generation is failing
                unit.prepared = swap.prepare(unit, self.live, self.store, self._folder, self._suffix)
            except Exception as exc:
                return self._fail(unit, exc, "load")
        if unstable:
            self._note(unit, f"waiting for {', '.join(unstable)}.py to stay unchanged")
            return False
        if busy is None:  # between cycles: the swap is the next reload step's
            self._note(unit, "ready: goes live at the next cycle")
            self._recheck = True
            return False
        slots = sorted(s.id for s in self.slots if s.module in unit.members and s.id in busy)
        if slots:
            self._note(unit, f"deferred: order in flight on slot {', '.join(slots)}")
            self._recheck = True
            return False
        unit.stable_step = max((self.scanner.files[n].stable_step for n in unit.members if n in self.scanner.files),
                               default=0)
        try:
            self._commit(unit, unit.prepared, memory)
        except migrate.MigrationError as exc:
            return self._fail(unit, exc.cause, "migrate", str(exc))
        return True

    def _fail(self, unit: Unit, exc: BaseException, phase: str, message: str = "") -> bool:
        file, line = where(exc, self._folder, f"{self._folder}/{unit.cause.split(',')[0] or 'unknown'}.py")
        self._refuse(unit, Failure(unit.cause, file, line, (message or f"{type(exc).__name__}: {exc}")[:500], phase))
        return True

    def _refuse(self, unit: Unit, failure: Failure) -> None:
        """The old generation stays live; the failure goes on each module the person changed (or rolled back)."""
        info = failure.as_dict(self._wall())
        if unit.origin != "file":
            info["message"] = f"{unit.origin} to generation {unit.numbers.get(unit.cause)}: {info['message']}"
        for name in unit.cause.split(","):
            self.failures[name] = info
        if unit.origin == "file":
            self._rejected.add(unit.key)

    def _note(self, unit: Unit, text: str) -> None:
        label = f"{unit.origin}: {text}" if unit.origin != "file" else text
        for name in unit.cause.split(","):
            self.pending.setdefault(name, []).append(label)

    # -- validation and swap ---------------------------------------------------------------------

    def _job(self, unit: Unit, live: set[str] | None = None) -> Job:
        others = {n: l.gen.source for n, l in self.live.items()}
        for name, obs in self.scanner.files.items():
            if name not in others and not obs.missing and obs.data:
                others[name] = obs.data
        contracts: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for slot in self.slots:
            if slot.module in unit.members:
                contracts.setdefault((slot.module, slot.class_name), []).append(self.params(slot))
        unit.job_id = next(self._jobs)
        return make_job(unit, unit.job_id, self._folder, others, (set(self.live) if live is None else live)
                        - unit.members, tuple(Contract(m, c, tuple(p)) for (m, c), p in contracts.items()),
                        self.settings.validate_timeout_s)

    def _submit(self, unit: Unit) -> None:
        unit.job_id = 0
        self._outgoing.append(unit)  # sent by between_cycles: building and sending the job is not the cycle's work

    def _commit(self, unit: Unit, prep: swap.Prepared, memory: Any, start: dict[str, str] | None = None) -> None:
        gens = swap.commit(unit, prep, self.live, self.slots, memory, self._wall(), self.cycle, start)
        self._went_live.append((unit, gens))  # history, kept sources, code cache: after the cycle (`_tidy`)
        slots = {s.id for s in self.slots if s.module in prep.modules}
        for slot_id in slots:
            self._instances.pop(slot_id, None)  # the old generation's instances die with the swap
        self._instances.update(prep.instances)  # built after an earlier cycle (`between_cycles`)
        self.faults.reset(slots)
        if unit.origin in ("rollback", "auto-rollback"):
            obs = self.scanner.files.get(unit.cause)
            self.store.record(unit.cause).pinned_file_hash = obs.sha256 if obs and not obs.missing else None
        elif unit.origin == "file":
            for name in unit.cause.split(","):
                self.store.record(name).pinned_file_hash = None
        for name in [n for n in self.live if n not in graph.reachable(self._imports(), self._strategy_modules)]:
            old = self.live.pop(name)  # a helper nothing imports any more
            loader.forget(name, old.versioned, old.module)
        self.swaps += 1
        self._tidy_due = True  # the manifest and the code cache are seen to after the cycle (between_cycles)

    def _tidy(self) -> None:
        offcycle.tidy(self)

    def _save_manifest(self, now: bool = False) -> None:
        offcycle.save_manifest(self, now)

    def persist(self) -> None:
        """Hand the queued .generations/ writes to the validator process (off the cycle)."""
        ops = self.store.take_ops()
        if ops:
            self.validator.persist(ops)

    def _imports(self) -> dict[str, tuple[str, ...]]:
        return {n: l.imports for n, l in self.live.items()}

    # -- what the engine calls each cycle ------------------------------------------------------------

    def params(self, slot: SlotConfig) -> dict[str, Any]:
        """A slot's parameters: nonstop.toml's under the control's slot_params (what instances are built with)."""
        return {**slot.params, **self._slot_params.get(slot.id, {})}

    def instance(self, slot: SlotConfig, params: dict[str, Any]) -> Any:
        cls = getattr(self.live[slot.module].module, slot.class_name)  # resolved through the module every cycle
        cached = self._instances.get(slot.id)
        if cached is not None and cached[0] is cls:
            if cached[3] is params:  # the engine hands the same params object until the control changes
                return cached[2]
            if cached[1] == params:  # equal params in another object (an instance built between cycles)
                self._instances[slot.id] = (cls, cached[1], cached[2], params)
                return cached[2]
        inst = cls(dict(params))
        self._instances[slot.id] = (cls, dict(params), inst, params)
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
        eligible = live.gen.origin in ("file", "dependency")  # a new generation, with an older one to go back to
        if self.faults.failed(slot.id, slot.module, id(live.module), eligible, overrun):
            self.requests.auto_rollback(live.cause, f"after {self.faults.threshold} consecutive decide failures "
                                                    f"on slot {slot.id}: {type(exc).__name__}: {exc}"[:300])

    def decide_ok(self, slot: SlotConfig) -> None:
        self.faults.ok(slot.id)

    def apply_requests(self, control: Any) -> None:
        self._slot_params = dict(getattr(control, "slot_params", {}) or {})
        self.requests.apply(control)
        self.persist()

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
                "kept": sorted(rec.kept), "state_version": live.state_version,
                "decide_failures": self.faults.total.get(name, 0), "overruns": self.faults.overruns.get(name, 0)})
        return out

    def close(self) -> None:
        if self._tidy_due:
            self._tidy()
        self._save_manifest(now=True)
        self.persist()
        self.validator.close()  # after the queued writes are done
        for name, live in self.live.items():
            loader.forget(name, live.versioned, live.module)
        self._instances.clear()

