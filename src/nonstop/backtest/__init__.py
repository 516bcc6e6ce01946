"""Backtests through the engine that trades: replayed files or simulated days, reports, sweeps.

`run_backtest(...)` is what `nonstop backtest` calls; `run_spec` runs one combination (it is
what worker processes and Dask workers execute); `stats` holds the report's arithmetic.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nonstop.backtest.spec import RunSpec, check_source, combinations, label, parse_params, slot_overrides
from nonstop.backtest.sweep import (check_executor, check_report_dir, execute, publish, staging_for,
                                    write_outputs)
from nonstop.errors import UserError
from nonstop.home.config import load_config
from nonstop.home.paths import Home

__all__ = ["BacktestResult", "RunSpec", "run_backtest"]


@dataclass
class BacktestResult:
    report_dir: Path
    sweep: bool
    reports: list[dict[str, Any]]


def run_backtest(home: Path, report: Path, *, data: list[str] | None = None, sim_days: float | None = None,
                 seed: int | None = None, params: list[str] | None = None, workers: int = 1,
                 executor: str = "local", scheduler: str | None = None, quiet: bool = False) -> BacktestResult:
    """Check every input, run every combination, then publish the report folder whole."""
    h = Home(Path(home).resolve())
    if not h.root.is_dir():
        raise UserError(f"--home: {home} is not a directory; create one with `nonstop init {home}`")
    config = load_config(h)
    if not config.slots:
        raise UserError(f"{h.config}: no [[slot]] configured; nothing to backtest")
    source = check_source(data, sim_days, seed, config)
    parsed = parse_params(params or [], h, config)
    check_executor(executor, workers)
    target = Path(report).resolve()
    check_report_dir(target)
    combos = combinations(parsed)
    specs = [RunSpec(home=str(h.root), source=source, params=c, slot_params=slot_overrides(c, h, config),
                     label=label(c), index=i) for i, c in enumerate(combos)]
    staging = staging_for(target)
    try:
        results = execute(specs, workers, executor, scheduler, quiet)
        write_outputs(staging, specs, results, sweep=bool(parsed))
        publish(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BacktestResult(target, bool(parsed), [r["report"] for r in results])
