"""One backtest run: the home's slots through the real engine (`build_engine`, `Engine.step`).

The run happens in a scratch copy of the home (nonstop.toml, strategies, control.json with the
sweep's parameters as `slot_params`, the engine's own override path), so parallel runs never
share a file and the user's home is never written. Venue time runs as fast as the CPU allows.
"""

from __future__ import annotations

import gc
import math
import os
import shutil
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from nonstop.backtest.report import RecordingJournal, build_report
from nonstop.backtest.spec import RunSpec
from nonstop.control.schema import ControlDoc, Mode
from nonstop.engine.build import RunOptions, build_engine
from nonstop.errors import UserError
from nonstop.home.config import load_config
from nonstop.home.files import atomic_write_text
from nonstop.home.paths import Home

SETTLE_S = 180.0  # after the last simulated day: the windows that close at the end get resolved
_PROGRESS_EVERY = 500  # cycles
WATCH_EVERY_S = 0.01  # wall seconds between looks at the scratch home's files (see drive)

Progress = Callable[[float], None]


def prepare_home(src: Home, dst: Home, slot_params: dict[str, dict[str, Any]]) -> None:
    """Copy what the engine reads; the control is the home's, ACTIVE, with the run's slot parameters."""
    dst.root.mkdir(parents=True)
    shutil.copyfile(src.config, dst.config)
    dst.strategies.mkdir()
    for path in src.strategies.glob("*.py"):
        shutil.copyfile(path, dst.strategies / path.name)
    doc = ControlDoc.model_validate({"updated_by": "nonstop backtest"})
    if src.control.exists():
        try:
            doc = ControlDoc.model_validate_json(src.control.read_text(encoding="utf-8"))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "document"
            raise UserError(f"{src.control}: {where}: {err['msg']}; fix it (or delete it for the defaults) "
                            f"before a backtest") from None
    merged = {slot: dict(values) for slot, values in doc.slot_params.items()}
    for slot, values in slot_params.items():
        merged.setdefault(slot, {}).update(values)
    doc = doc.model_copy(update={"mode": Mode.ACTIVE, "slot_params": merged})
    atomic_write_text(dst.control, doc.model_dump_json(indent=2) + "\n")
    # Written once, before the run, and never again: dated back, so that the control watcher does not
    # take it for a file still being written and re-read it every cycle of the run's first two seconds
    # (control/watcher.py, RACY_S), a cost that a replay going at thousands of cycles a second would feel.
    past = time.time() - 10.0
    os.utime(dst.control, (past, past))


def drive(engine: Any, sim_seconds: float | None, progress: Progress | None = None) -> None:
    """`Engine.run` for `sim_seconds` of venue time, or until the replay venue has nothing left."""
    start = engine.clock.now()

    def report_progress(tell: Progress) -> None:
        if engine.cycle % _PROGRESS_EVERY == 0:
            done_at = engine.clock.now() + engine.period  # the next cycle's time, as far as the run got
            tell((done_at - start) / sim_seconds if sim_seconds else engine.venue.progress)

    # What exists before the run (modules, config, the engine) lives through it: frozen, it is left
    # out of the garbage collector's full passes, which then look only at what the run allocates.
    gc.freeze()
    # Thousands of cycles a second on a scratch home nobody edits: its control.json and strategies/
    # are looked at every WATCH_EVERY_S of wall time, not every cycle (their stats were ~9 % of a replay).
    engine.watch_every_s = WATCH_EVERY_S
    try:
        engine.run(sim_seconds if sim_seconds is not None else math.inf,
                   None if progress is None else lambda: report_progress(progress))
    finally:
        gc.unfreeze()
    if progress is not None:
        progress(1.0)


def run_spec(spec: RunSpec, progress: Progress | None = None, render: bool = True) -> dict[str, Any]:
    """Run one combination; returns {"report": report.json's dict, "html": report.html or ""}."""
    home = Home(Path(spec.home))
    config = load_config(home)
    strategies = {s.id: s.module for s in config.slots}
    with tempfile.TemporaryDirectory(prefix="nonstop-backtest-") as tmp:
        work = Home(Path(tmp) / "home")
        prepare_home(home, work, spec.slot_params)
        src = spec.source
        opts = RunOptions(venue="replay" if src.data else "sim", seed=src.seed, speed=None,
                          data=list(src.data) or None, status_min_interval_s=5.0)
        engine = build_engine(work, opts)
        journal = RecordingJournal(engine.journal)
        engine.journal = journal
        engine.positions.history = deque()  # every closed trade, not the last 200
        t0 = time.perf_counter()
        try:
            drive(engine, src.sim_days * 86400.0 + SETTLE_S if src.sim_days else None, progress)
        finally:
            engine.close()
        wall = time.perf_counter() - t0
    report = build_report(spec, engine, journal, wall, strategies)
    html = ""
    if render:
        from nonstop.backtest.html import render_report

        html = render_report(report)
    return {"report": report, "html": html}
