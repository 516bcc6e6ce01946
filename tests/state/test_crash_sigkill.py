"""The crash test: 50 SIGKILLs of a real bot process trading against a real `nonstop sim-exchange`.

Runs `bench/crash.py` (the full figure is `--kills 200`) and checks its verdict, read from the
venue's own records against the journal: no order placed twice, every venue fill journaled
exactly once, positions equal the venue's, P&L adds up with the venue's collateral.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(400)
def test_fifty_sigkills_while_trading_against_sim_exchange() -> None:
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "crash.py"), "--kills", "50", "--seed", "3",
                           "--share-trading", "0.25", "--speed", "30", "--down", "0.3"],
                          capture_output=True, text=True, timeout=380, cwd=str(ROOT))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["kills"] >= 50
    assert result["kills_while_trading"] >= 10  # 12 of the 50 (seeded) wait for trading, the rest strike anywhere
    assert result["orders"] >= 50 and result["fills"] >= 20  # it did trade between the kills
    assert result["duplicate_orders"] == 0
    assert result["lost_fills"] == 0 and result["phantom_fills"] == 0
    assert result["position_mismatches"] == 0
    assert abs(result["pnl_difference"]) < 1e-3 and result["pnl_adds_up"]
    assert result["resent_after_restart"] + result["abandoned_after_restart"] > 0  # recovery had intents to judge
