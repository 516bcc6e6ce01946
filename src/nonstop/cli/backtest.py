"""`nonstop backtest`: the home's slots on recorded or simulated markets, through the real engine."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Optional

import typer

from nonstop.cli.common import user_errors
from nonstop.cli.main import app


def _line(name: str, s: dict) -> str:  # type: ignore[type-arg]
    if not s["trades"]:
        return f"{name}: no trades"
    lo, hi = s["wilson95"]
    return (f"{name}: trades={s['trades']} win_rate={s['win_rate']:.1%} (95% {lo:.1%}-{hi:.1%}) "
            f"break_even={s['break_even_win_rate']:.1%} pnl={s['pnl']:+.2f} fees={s['fees']:.2f} "
            f"max_dd={s['max_drawdown']:.2f}")


@app.command()
@user_errors
def backtest(home: Path = typer.Option(..., "--home", help="the home whose slots and strategies are tested"),
             data: Optional[list[str]] = typer.Option(None, "--data", help="recorded market-data file(s) to replay"),
             sim_days: Optional[float] = typer.Option(None, "--sim-days", help="simulated days on the embedded sim"),
             seed: Optional[int] = typer.Option(None, "--seed", help="simulator seed (default: nonstop.toml)"),
             report: Path = typer.Option(..., "--report", help="folder for report.json / report.html"),
             param: Optional[list[str]] = typer.Option(None, "--param", help="sweep: KEY=a,b,c (repeatable)"),
             workers: int = typer.Option(1, "--workers", help="parallel worker processes for a sweep"),
             executor: str = typer.Option("local", "--executor", help="local | dask (ray: see README)"),
             scheduler: Optional[str] = typer.Option(None, "--scheduler",
                                                     help="Dask scheduler address (default: a local cluster)"),
             quiet: bool = typer.Option(False, "--quiet", help="no progress bar")) -> None:
    """Backtest: report.json + report.html; with --param, one report per combination and a comparison."""
    from nonstop.backtest import run_backtest

    # SIGTERM unwinds like Ctrl-C, so the half-built report folder is removed on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    result = run_backtest(home, report, data=data, sim_days=sim_days, seed=seed, params=param, workers=workers,
                          executor=executor, scheduler=scheduler, quiet=quiet)
    if result.sweep:
        for rep in result.reports:
            params = ",".join(f"{k}={v}" for k, v in rep["run"]["params"].items())
            print(_line(params, rep["summary"]))
        print(f"comparison: {result.report_dir / 'comparison.html'}")
    else:
        rep = result.reports[0]
        for name, s in rep["by_strategy"].items():
            print(_line(f"  {name}", s))
        print(_line("total", rep["summary"]))
        print(f"report: {result.report_dir / 'report.html'}")
