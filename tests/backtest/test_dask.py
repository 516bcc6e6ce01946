"""The same sweep on a Dask cluster: the test starts a local cluster and points `--executor dask` at it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli

distributed = pytest.importorskip("distributed", reason="the `distributed` extra (also in `test`) is not installed")


def test_a_sweep_runs_on_a_dask_cluster_the_test_started(data_home: Path, sim_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            proc = run_cli("backtest", "--home", str(data_home), "--data", str(sim_file), "--report", str(out),
                           "--param", "margin=0.0,0.05", "--executor", "dask", "--scheduler",
                           cluster.scheduler_address, check=True)
            # the runs were tasks of this cluster, not of a local pool
            done = client.run_on_scheduler(lambda dask_scheduler: [k for k in dask_scheduler.task_prefixes])
    assert "nonstop_backtest" in done, done
    comparison = json.loads((out / "comparison.json").read_text())
    assert comparison["runs"] == 2
    assert {r["params"]["margin"] for r in comparison["rows"]} == {0.0, 0.05}
    for row in comparison["rows"]:
        assert (out / row["dir"] / "report.json").exists() and (out / row["dir"] / "report.html").exists()
    assert "comparison:" in proc.stdout


def test_an_unreachable_scheduler_is_one_line(data_home: Path, sim_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = run_cli("backtest", "--home", str(data_home), "--data", str(sim_file), "--report", str(out),
                   "--param", "margin=0.0,0.05", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:9",
                   env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("error: --scheduler tcp://127.0.0.1:9")
    assert not out.exists()
