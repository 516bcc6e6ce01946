"""`nonstop`: the entry point. Each concern registers its commands from its own module."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="nonstop: a live trading engine that never stops to learn.")

from nonstop.cli import bot as _bot  # noqa: E402,F401  (registers init, run, status, demo)

for _optional in ("ctl", "mission_control", "demo", "sim_exchange", "backtest", "record"):
    try:
        __import__(f"nonstop.cli.{_optional}")
    except ModuleNotFoundError as exc:  # a concern not built yet registers nothing
        if exc.name != f"nonstop.cli.{_optional}":
            raise

if __name__ == "__main__":  # `python -m nonstop.cli.main`: run the registered app, not this copy
    from nonstop.cli.main import app as registered

    registered()
