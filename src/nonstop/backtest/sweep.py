"""Run the combinations of a backtest (local worker processes or a Dask cluster) and publish the reports.

Output is built in a hidden sibling folder and renamed over `--report` only when every run has
finished, so a failed or interrupted backtest leaves no partial report behind.
"""

from __future__ import annotations

import functools
import json
import multiprocessing as mp
import os
import queue as queue_mod
import shutil
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any, Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from nonstop.backtest.html import render_comparison
from nonstop.backtest.runner import run_spec
from nonstop.backtest.spec import RunSpec
from nonstop.errors import UserError

EXECUTORS = ("local", "dask", "ray")
_MARKERS = ("report.json", "comparison.json")


def check_report_dir(path: Path) -> None:
    """Refuse a --report folder that holds something other than an earlier report."""
    if path.exists() and not path.is_dir():
        raise UserError(f"--report: {path} is a file; give a folder (it is created)")
    if path.is_dir() and any(path.iterdir()) and not any((path / m).exists() for m in _MARKERS):
        raise UserError(f"--report: {path} holds other files; give a new or empty folder, or an earlier report")


def check_executor(executor: str, workers: int) -> None:
    if workers < 1:
        raise UserError(f"--workers: {workers} must be >= 1")
    if executor not in EXECUTORS:
        raise UserError(f"--executor: unknown {executor!r}; use local or dask")
    if executor == "ray":
        raise UserError("--executor ray: nonstop's distributed sweeps run on Dask (see README, Backtest); "
                        "use --executor dask")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise UserError("--executor dask: Dask is not installed; pip install 'nonstop[distributed]'") from None


def _pool_run(spec: RunSpec, q: Any) -> dict[str, Any]:
    return run_spec(spec, progress=lambda f: q.put((spec.index, f)))


class _Bars:
    """A rich progress bar per run, on stderr, only when stderr is a terminal."""

    def __init__(self, specs: list[RunSpec], quiet: bool) -> None:
        console = Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                                 TimeElapsedColumn(), console=console, disable=quiet or not console.is_terminal)
        self.tasks = [self.progress.add_task(s.label, total=1.0) for s in specs]

    def update(self, index: int, fraction: float) -> None:
        self.progress.update(self.tasks[index], completed=min(max(fraction, 0.0), 1.0))

    def __enter__(self) -> "_Bars":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)


def execute(specs: list[RunSpec], workers: int, executor: str, scheduler: str | None,
            quiet: bool = False) -> list[dict[str, Any]]:
    results: list[dict[str, Any] | None] = [None] * len(specs)
    with _Bars(specs, quiet) as bars:
        if executor == "dask":
            _dask(specs, workers, scheduler, results, bars.update)
        elif workers == 1 or len(specs) == 1:
            for spec in specs:
                results[spec.index] = run_spec(spec, progress=functools.partial(bars.update, spec.index))
        else:
            _local(specs, workers, results, bars.update)
    return [r for r in results if r is not None]


def _local(specs: list[RunSpec], workers: int, results: list[Any], update: Callable[[int, float], None]) -> None:
    ctx = mp.get_context("spawn")  # no fork of a process that may hold threads (rich's refresher)
    with ctx.Manager() as manager, ProcessPoolExecutor(min(workers, len(specs)), mp_context=ctx) as pool:
        q = manager.Queue()
        futures = {pool.submit(_pool_run, spec, q): spec for spec in specs}
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(q, update)
                for fut in done:
                    spec = futures[fut]
                    results[spec.index] = fut.result()  # re-raises a run's UserError here
                    update(spec.index, 1.0)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise


def _drain(q: Any, update: Callable[[int, float], None]) -> None:
    while True:
        try:
            index, fraction = q.get_nowait()
        except queue_mod.Empty:
            return
        update(index, fraction)


def _dask(specs: list[RunSpec], workers: int, scheduler: str | None, results: list[Any],
          update: Callable[[int, float], None]) -> None:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:  # no cluster given: a local one for this backtest
        cluster = LocalCluster(n_workers=min(workers, len(specs)), threads_per_worker=1, processes=True,
                               dashboard_address=None)
    try:
        with Client(scheduler if scheduler is not None else cluster) as client:
            futures = [client.submit(run_spec, spec, key=f"nonstop_backtest-{os.getpid()}-{spec.index}",
                                     pure=False) for spec in specs]
            index = {f.key: spec.index for f, spec in zip(futures, specs)}
            for fut in as_completed(futures):
                i = index[fut.key]
                results[i] = fut.result()
                update(i, 1.0)
    except OSError as exc:
        raise UserError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc}); "
                        f"start one or leave --scheduler out for a local cluster") from None
    finally:
        if cluster is not None:
            cluster.close()


def comparison_row(spec: RunSpec, report: dict[str, Any], folder: str) -> dict[str, Any]:
    s = report["summary"]
    return {"dir": folder, "params": spec.params, "trades": s["trades"], "win_rate": s["win_rate"],
            "wilson95": s["wilson95"], "break_even_win_rate": s["break_even_win_rate"], "pnl": s["pnl"],
            "fees": s["fees"], "max_drawdown": s["max_drawdown"], "fill_rate": report["orders"]["fill_rate"],
            "verdict": s["verdict"]}


def write_outputs(staging: Path, specs: list[RunSpec], results: list[dict[str, Any]], sweep: bool) -> None:
    if not sweep:
        _write_run(staging, results[0])
        return
    rows, used = [], set()
    for spec, result in zip(specs, results):
        folder = spec.label if spec.label not in used else f"{spec.label}-{spec.index}"
        used.add(folder)
        _write_run(staging / folder, result)
        rows.append(comparison_row(spec, result["report"], folder))
    rows.sort(key=lambda r: r["pnl"], reverse=True)
    keys = list(specs[0].params)
    doc = {"runs": len(rows), "params": keys, "sorted_by": "pnl", "rows": rows}
    (staging / "comparison.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    (staging / "comparison.html").write_text(render_comparison(rows, keys), encoding="utf-8")


def _write_run(folder: Path, result: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(json.dumps(result["report"], indent=1) + "\n", encoding="utf-8")
    (folder / "report.html").write_text(result["html"], encoding="utf-8")


def publish(staging: Path, target: Path) -> None:
    """Swap the finished output in; an earlier report in `target` is replaced whole."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def staging_for(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    return staging
