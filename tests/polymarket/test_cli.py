"""The public doors: `nonstop run --venue polymarket` (paper and --live) and `nonstop sim-exchange`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.polymarket.conftest import env_for, start_fake, stop_fake

STRATEGY = '''
from nonstop.strategy import Context, Intent, Outcome


class EveryWindow:
    """Buys the Up side once per window, early, whatever the price (a test strategy)."""

    def __init__(self, params: dict) -> None:
        self.max_price = float(params.get("max_price", 0.95))

    def decide(self, ctx: Context) -> list[Intent]:
        w = ctx.window
        book = ctx.book(Outcome.UP)
        if w.fired or book is None or book.best_ask is None or book.best_ask > self.max_price:
            return []
        if w.seconds_left < 30:
            return []
        return [Intent.buy(Outcome.UP, limit=book.best_ask, reason="test")]
'''


def make_home(tmp: Path) -> Path:
    from nonstop.home.init import init_home

    home = tmp / "home"
    init_home(home, 7, False)
    (home / "strategies" / "every_window.py").write_text(STRATEGY)
    toml = (home / "nonstop.toml").read_text().split("[[slot]]")[0]
    toml += '[[slot]]\nid = "every-btc-5m"\nmodule = "every_window"\nclass = "EveryWindow"\nasset = "BTC"\n' \
            'timeframe = "5m"\n'
    (home / "nonstop.toml").write_text(toml)
    return home


def run(home: Path, env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NONSTOP_POLYMARKET_")}
    return subprocess.run([sys.executable, "-m", "nonstop", "run", "--home", str(home), "--venue", "polymarket",
                           *args], env={**clean, **env}, capture_output=True, text=True, timeout=timeout)


def test_live_without_credentials_is_refused_in_one_line(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    got = run(home, {"NONSTOP_POLYMARKET_HOST": "http://127.0.0.1:9"}, "--live", "--duration", "5s")
    assert got.returncode == 2
    lines = got.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --live: no Polymarket credentials"), got.stderr
    assert "NONSTOP_POLYMARKET_PRIVATE_KEY" in lines[0]


def test_a_credentials_file_inside_a_repository_is_refused(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "creds.toml").write_text('private_key = "0x' + "11" * 32 + '"\n')
    got = run(home, {"NONSTOP_POLYMARKET_CREDENTIALS_FILE": str(repo / "creds.toml")}, "--live", "--duration", "5s")
    assert got.returncode == 2
    assert "inside the git repository" in got.stderr and len(got.stderr.strip().splitlines()) == 1


def test_sim_exchange_refuses_bad_options_in_one_line() -> None:
    got = subprocess.run([sys.executable, "-m", "nonstop", "sim-exchange", "--speed", "0"], capture_output=True,
                         text=True, timeout=60)
    assert got.returncode == 2 and got.stderr.strip().startswith("error: --speed")


@pytest.fixture(scope="module")
def fast_fake():  # type: ignore[no-untyped-def]
    f = start_fake("--assets", "BTC", "--timeframes", "5m", "--speed", "60", "--settle", "3", "--confirm", "6")
    yield f
    stop_fake(f)


def test_live_run_against_the_fake_prints_its_account_and_trades(fast_fake, tmp_path: Path) -> None:
    home = make_home(tmp_path)
    got = run(home, env_for(fast_fake, "cli-live"), "--live", "--duration", "300s")
    assert got.returncode == 0, got.stderr[-2000:]
    assert "live: collateral 10000.00 pUSD, allowance unlimited pUSD" in got.stderr
    accounts = fast_fake.state()["accounts"]
    assert len(accounts) == 1
    (acct,) = accounts.values()
    assert acct["orders"] >= 1, (got.stdout, got.stderr[-1500:])
    assert (home / "polymarket-orders.sqlite").exists()  # client id -> order id, written before sending


def test_live_refuses_to_start_without_collateral(tmp_path: Path) -> None:
    broke = start_fake("--assets", "BTC", "--timeframes", "5m", "--collateral", "0")
    try:
        home = make_home(tmp_path)
        got = run(home, env_for(broke, "cli-broke"), "--live", "--duration", "30s")
    finally:
        stop_fake(broke)
    assert got.returncode == 2
    assert "live: collateral 0.00 pUSD" in got.stderr  # it says what it found first
    assert got.stderr.strip().splitlines()[-1].startswith("error: --live: no collateral at wallet 0x")
