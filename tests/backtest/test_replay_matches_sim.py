"""Replaying a file made from a sim run gives the same trades as that sim run (same seed)."""

from __future__ import annotations

import json
from pathlib import Path

from nonstop.home.config import load_config
from nonstop.home.paths import Home
from nonstop.venues.replay import MarketDataReader, convert_sim, sim_config_of
from tests.backtest.conftest import SEED, SETTLE_S, SIM_DAYS
from tests.conftest import run_cli

FIELDS = ("slot", "window", "outcome", "winner", "shares", "cost", "fees", "pnl", "entered_at", "closed_at")


def _trades(report_dir: Path) -> list[tuple]:
    doc = json.loads((report_dir / "report.json").read_text())
    return [tuple(t[f] for f in FIELDS) for t in doc["trades"]]


def test_replay_of_a_converted_sim_run_makes_the_same_trades(data_home: Path, sim_file: Path, tmp_path: Path) -> None:
    sim = run_cli("backtest", "--home", str(data_home), "--sim-days", str(SIM_DAYS), "--seed", str(SEED),
                  "--report", str(tmp_path / "sim"), check=True)
    replay = run_cli("backtest", "--home", str(data_home), "--data", str(sim_file),
                     "--report", str(tmp_path / "replay"), check=True)
    from_sim, from_replay = _trades(tmp_path / "sim"), _trades(tmp_path / "replay")
    assert len(from_sim) >= 3, sim.stdout  # a comparison of nothing would prove nothing
    assert from_replay == from_sim
    sim_doc = json.loads((tmp_path / "sim" / "report.json").read_text())
    replay_doc = json.loads((tmp_path / "replay" / "report.json").read_text())
    assert replay_doc["run"]["venue"] == "replay" and sim_doc["run"]["venue"] == "sim"
    assert replay_doc["orders"]["sent"] == sim_doc["orders"]["sent"]
    assert replay_doc["summary"]["pnl"] == sim_doc["summary"]["pnl"]
    assert "total: trades=" in replay.stdout


def test_a_different_seed_is_a_different_market(data_home: Path, sim_file: Path, tmp_path: Path) -> None:
    run_cli("backtest", "--home", str(data_home), "--sim-days", str(SIM_DAYS), "--seed", str(SEED + 1),
            "--report", str(tmp_path / "other"), check=True)
    run_cli("backtest", "--home", str(data_home), "--data", str(sim_file), "--report", str(tmp_path / "replay"),
            check=True)
    assert _trades(tmp_path / "other") != _trades(tmp_path / "replay")


def test_a_version_1_file_of_the_same_run_replays_the_same(data_home: Path, sim_file: Path, tmp_path: Path) -> None:
    """The writer writes format version 2 (numbered tokens, superseded books on a line of their own);
    a version 1 file of the same simulator run gives the same run, record for record."""
    config = load_config(Home(data_home))
    old = convert_sim(tmp_path / "v1.nmd.gz", SEED, SIM_DAYS * 86400 + SETTLE_S, sim_config_of(config), version=1)
    assert MarketDataReader(old.path).header.version == 1 and MarketDataReader(sim_file).header.version == 2
    for name, path in (("v1", old.path), ("v2", sim_file)):
        run_cli("backtest", "--home", str(data_home), "--data", str(path), "--report", str(tmp_path / name), check=True)
    v1, v2 = (json.loads((tmp_path / n / "report.json").read_text()) for n in ("v1", "v2"))
    assert len(v2["trades"]) >= 3 and _trades(tmp_path / "v1") == _trades(tmp_path / "v2")
    assert v1["orders"] == v2["orders"] and v1["summary"] == v2["summary"]
