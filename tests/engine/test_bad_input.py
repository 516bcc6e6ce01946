"""Bad input: one line naming the field and the fix, exit code 2, nothing written in the home."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _assert_refused(home: Path, proc, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if line]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("old,new,needles", [
    ('asset = "BTC"', 'asset = "LTC"', ("slot[0].asset", "LTC", "use one of")),
    ('timeframe = "5m"', 'timeframe = "1h"', ("slot[0].timeframe", "1h", "use one of")),
    ('module = "late_window_snipe"', 'module = "no_such_strategy"', ("no_such_strategy.py", "missing")),
    ('venue = "sim"', 'venue = "binance"', ("venue", "binance", "use one of")),
])
def test_bad_config_is_one_line_exit_2_and_writes_nothing(home: Path, old: str, new: str, needles) -> None:
    cfg = home / "nonstop.toml"
    cfg.write_text(cfg.read_text().replace(old, new, 1))
    before = _snapshot(home)
    proc = run_cli("run", "--home", str(home), "--speed", "max", "--duration", "10s")
    _assert_refused(home, proc, *needles)
    assert _snapshot(home) == before


@pytest.mark.parametrize("args,needles", [
    (["--speed", "0"], ("--speed", "> 0")),
    (["--speed", "-5"], ("--speed", "> 0")),
    (["--speed", "fast"], ("--speed", "max")),
    (["--venue", "kraken"], ("--venue", "kraken", "sim")),
    (["--duration", "soon"], ("--duration", "6h")),
])
def test_bad_options_are_one_line_exit_2_and_write_nothing(home: Path, args: list[str], needles) -> None:
    before = _snapshot(home)
    proc = run_cli("run", "--home", str(home), *args)
    _assert_refused(home, proc, *needles)
    assert _snapshot(home) == before


def test_missing_home_is_refused(tmp_path: Path) -> None:
    proc = run_cli("run", "--home", str(tmp_path / "nowhere"), "--speed", "max")
    _assert_refused(tmp_path, proc, "nonstop init")
    assert not (tmp_path / "nowhere").exists()


def test_status_without_a_bot_says_how_to_start_it(home: Path) -> None:
    proc = run_cli("status", "--home", str(home))
    _assert_refused(home, proc, "nonstop run")
