"""`nonstop init HOME`: a home whose default config runs 16 slots across 6 assets on 5m and 15m."""

from __future__ import annotations

import shutil
from pathlib import Path

from nonstop.control.schema import ControlDoc
from nonstop.errors import UserError
from nonstop.home.files import atomic_write_text
from nonstop.home.paths import Home
from nonstop.markets import ASSETS, TIMEFRAMES
from nonstop.strategies import BUNDLED

STRATEGY_FILES = ("late_window_snipe.py", "momentum.py")
MOMENTUM_PAIRS = (("BTC", "5m"), ("BTC", "15m"), ("ETH", "5m"), ("ETH", "15m"))


def default_config_text(seed: int = 7) -> str:
    lines = [
        "# nonstop home: static config. Live steering goes through control.json (`nonstop ctl`).",
        'venue = "sim"',
        f"seed = {seed}",
        "",
        "[engine]",
        "period_s = 1.0          # one cycle per venue second",
        "starting_cash = 1000.0  # paper USDC",
        "",
        "[sim]",
        'resolution_rule = "twap"  # or "spot", the pre-Aug-2026 rule',
        "",
    ]
    for asset in ASSETS:
        for tf in TIMEFRAMES:
            lines += ["[[slot]]", f'id = "snipe-{asset.lower()}-{tf}"', 'module = "late_window_snipe"',
                      'class = "LateWindowSnipe"', f'asset = "{asset}"', f'timeframe = "{tf}"',
                      "params = { arm_seconds = 90, min_move_bps = 3.0, margin = 0.02, max_price = 0.97 }", ""]
    for asset, tf in MOMENTUM_PAIRS:
        lines += ["[[slot]]", f'id = "momentum-{asset.lower()}-{tf}"', 'module = "momentum"', 'class = "Momentum"',
                  f'asset = "{asset}"', f'timeframe = "{tf}"',
                  "params = { lookback_s = 30, z_entry = 2.0, margin = 0.03, max_price = 0.85 }", ""]
    return "\n".join(lines)


def init_home(root: Path, seed: int = 7, force: bool = False) -> Home:
    home = Home(root)
    if home.config.exists() and not force:
        raise UserError(f"{home.config} already exists; pick another HOME or pass --force to overwrite")
    root.mkdir(parents=True, exist_ok=True)
    home.strategies.mkdir(exist_ok=True)
    for name in STRATEGY_FILES:
        shutil.copyfile(BUNDLED / name, home.strategies / name)
    atomic_write_text(home.config, default_config_text(seed), durable=True)
    doc = ControlDoc(updated_by="nonstop init")
    atomic_write_text(home.control, doc.model_dump_json(indent=2) + "\n", durable=True)
    return home
