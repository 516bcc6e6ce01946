"""Test homes for the durable-state tests: made by the real `nonstop init`, then narrowed."""

from __future__ import annotations

import shutil
from pathlib import Path

from nonstop.home.init import init_home

CHURN = Path(__file__).with_name("churn.py")


def churn_home(root: Path, assets: tuple[str, ...] = ("BTC", "ETH"), every: int = 7, seed: int = 7,
               extra: str = "") -> Path:
    """A home whose slots churn orders on `assets` (5m and 15m); the sim simulates only those."""
    init_home(root, seed)
    shutil.copy(CHURN, root / "strategies" / "churn.py")
    text = (root / "nonstop.toml").read_text()
    head = text[: text.index("[sim]")]
    slots = "".join(
        f'[[slot]]\nid = "churn-{a.lower()}-{tf}"\nmodule = "churn"\nclass = "Churn"\nasset = "{a}"\n'
        f'timeframe = "{tf}"\nparams = {{ every = {every} }}\n\n' for a in assets for tf in ("5m", "15m"))
    sim = "[sim]\nassets = [" + ", ".join(f'"{a}"' for a in assets) + "]\n\n"
    (root / "nonstop.toml").write_text(head + sim + extra + "\n" + slots)
    return root
