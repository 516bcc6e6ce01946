"""Bad input: one clear line on stderr, exit code 2, and no report (not even a partial one) left behind."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.conftest import run_cli


def _refused(proc, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def _nothing_written(out: Path) -> None:
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []


@pytest.mark.parametrize("args,needles", [
    (["--data", "NOFILE"], ("--data", "does not exist")),
    (["--sim-days", "0.01", "--param", "no_such_knob=1,2"], ("--param no_such_knob", "unknown parameter", "margin")),
    (["--sim-days", "0.01", "--param", "margin="], ("--param margin=", "no values")),
    (["--sim-days", "0.01", "--param", "margin=,,"], ("--param margin=", "no values")),
    (["--sim-days", "0.01", "--param", "margin"], ("--param", "KEY=a,b,c")),
    (["--sim-days", "0.01", "--param", "nomodule.margin=1"], ("nomodule", "module")),
    (["--sim-days", "0"], ("--sim-days", "> 0")),
    ([], ("--data", "--sim-days")),
    (["--sim-days", "0.01", "--executor", "spark"], ("--executor", "spark")),
    (["--sim-days", "0.01", "--workers", "0"], ("--workers",)),
])
def test_bad_options_are_one_line_and_exit_2(data_home: Path, tmp_path: Path, args: list[str], needles) -> None:
    out = tmp_path / "report"
    args = [a.replace("NOFILE", str(tmp_path / "missing.nmd.gz")) for a in args]
    proc = run_cli("backtest", "--home", str(data_home), "--report", str(out), *args)
    _refused(proc, *needles)
    _nothing_written(out)


def test_a_file_that_is_not_market_data(data_home: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk.nmd.gz"
    junk.write_bytes(b"this is not gzip at all\n" * 10)
    plain = tmp_path / "plain.nmd.gz"
    plain.write_bytes(gzip.compress(b'{"hello": "world"}\n'))
    for bad in (junk, plain):
        out = tmp_path / f"report-{bad.stem}"
        proc = run_cli("backtest", "--home", str(data_home), "--data", str(bad), "--report", str(out))
        _refused(proc, str(bad), "not a readable nonstop market-data file")
        _nothing_written(out)


def test_a_file_corrupt_halfway_fails_mid_run_and_leaves_no_partial_report(data_home: Path, sim_file: Path,
                                                                            tmp_path: Path) -> None:
    data = sim_file.read_bytes()
    cut = tmp_path / "cut.nmd.gz"
    cut.write_bytes(data[: len(data) // 2])  # the header reads fine; the stream ends early
    flipped = tmp_path / "flipped.nmd.gz"
    middle = len(data) // 2
    flipped.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:])
    for bad in (cut, flipped):
        out = tmp_path / f"report-{bad.stem}"
        proc = run_cli("backtest", "--home", str(data_home), "--data", str(bad), "--report", str(out))
        _refused(proc, str(bad), "re-record it")
        _nothing_written(out)


def test_a_failed_sweep_keeps_the_earlier_report(data_home: Path, sim_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "report.json").write_text("{}")
    proc = run_cli("backtest", "--home", str(data_home), "--data", str(tmp_path / "gone.nmd.gz"), "--report", str(out))
    _refused(proc, "--data")
    assert (out / "report.json").read_text() == "{}"


def test_a_report_folder_with_other_files_is_refused(data_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.txt").write_text("do not delete")
    proc = run_cli("backtest", "--home", str(data_home), "--sim-days", "0.01", "--report", str(out))
    _refused(proc, "--report", "other files")
    assert (out / "thesis.txt").read_text() == "do not delete"
