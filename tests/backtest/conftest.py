"""Fixtures: a small two-asset home and a market-data file converted from the same simulator run."""

from __future__ import annotations

from pathlib import Path

import pytest

from nonstop.home.config import load_config
from nonstop.home.init import init_home
from nonstop.home.paths import Home
from nonstop.venues.replay import convert_sim, sim_config_of

ASSETS = ("BTC", "ETH")
SEED = 11
SIM_DAYS = 0.02  # 28.8 venue minutes (+ the backtest's 3 settling minutes)
SETTLE_S = 180.0


def small_home(root: Path, seed: int = SEED) -> Path:
    """`nonstop init`, then only BTC and ETH: 4 snipe and 4 momentum slots on a 2-asset simulator."""
    home = init_home(root, seed=seed)
    text = home.config.read_text()
    text = text.replace('[sim]\n', '[sim]\nassets = ["BTC", "ETH"]\n', 1)
    # A keen snipe (no margin, the raw realised vol) so a short run has trades to compare.
    text = text.replace("margin = 0.02, max_price = 0.97", "margin = 0.0, vol_mult = 1.0, max_price = 0.97")
    head, *blocks = text.split("[[slot]]")
    keep = [b for b in blocks if any(f'asset = "{a}"' in b for a in ASSETS)]
    home.config.write_text(head + "".join("[[slot]]" + b for b in keep))
    return root


@pytest.fixture(scope="session")
def data_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_home(tmp_path_factory.mktemp("bt") / "home")


@pytest.fixture(scope="session")
def sim_file(data_home: Path) -> Path:
    """The simulator run of `--sim-days SIM_DAYS --seed SEED`, written as a market-data file."""
    config = load_config(Home(data_home))
    path = data_home.parent / f"sim-{SEED}.nmd.gz"
    convert_sim(path, SEED, SIM_DAYS * 86400 + SETTLE_S, sim_config_of(config))
    return path
