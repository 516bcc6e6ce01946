"""The simulated market itself: consistent books, realistic returns."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nonstop.venues.base import BookUpdate
from nonstop.venues.sim import SimExchange

from tests.sim.conftest import Harness, small_config


def test_up_and_down_books_mirror_each_other() -> None:
    h = Harness(9, small_config(timeframes=("5m", "15m")))
    h.run(900)
    latest: dict[str, BookUpdate] = {}
    checked = 0
    for info in {e.info.slug: e.info for e in h.events if hasattr(e, "info")}.values():
        up, down = h.venue.book(info.up_token), h.venue.book(info.down_token)
        if up is None or down is None:
            continue
        assert up.best_bid is not None and down.best_ask is not None
        assert up.best_bid + down.best_ask == pytest.approx(1.0, abs=0.011)
        assert up.best_ask + down.best_bid == pytest.approx(1.0, abs=0.011)
        checked += 1
    assert checked >= 2
    for e in h.events:
        if isinstance(e, BookUpdate):
            latest[e.book.token_id] = e
            b = e.book
            assert list(b.bids) == sorted(b.bids, key=lambda lv: -lv.price)
            assert list(b.asks) == sorted(b.asks, key=lambda lv: lv.price)
            assert b.spread is None or b.spread > 0


@pytest.mark.parametrize("asset", ["BTC", "ETH", "DOGE"])
def test_one_second_returns_match_the_annual_vol_and_are_fat_tailed(asset: str) -> None:
    cfg = small_config(assets=(asset,), regime_sd_log=0.0, jump_rate_per_day=0.0)
    ex = SimExchange(12, cfg)
    prices = ex.paths.array(asset, ex.paths.origin, ex.paths.origin + 3 * 86_400)
    r = np.diff(np.log(prices))
    annual = float(r.std()) * math.sqrt(31_536_000)
    assert annual == pytest.approx(cfg.asset(asset).annual_vol, rel=0.05)
    kurt = float(((r - r.mean()) ** 4).mean() / r.var() ** 2)
    assert kurt > 3.0


def test_default_vol_with_regimes_and_jumps_stays_near_the_annual_vol() -> None:
    ex = SimExchange(13, small_config())
    prices = ex.paths.array("BTC", ex.paths.origin, ex.paths.origin + 5 * 86_400)
    r = np.diff(np.log(prices))
    assert float(r.std()) * math.sqrt(31_536_000) == pytest.approx(0.42, rel=0.2)


def test_paths_regenerate_identically_after_memory_eviction() -> None:
    """Only a few hours stay in memory; going back regenerates the same prices and oracle samples."""
    cfg = small_config()
    a, b = SimExchange(21, cfg), SimExchange(21, cfg)
    o = a.paths.origin
    first = a.paths.array("BTC", o, o + 9 * 3600)
    b.paths.price("BTC", o + 9 * 3600)  # walk far ahead first, evicting the early hours
    assert np.array_equal(first, b.paths.array("BTC", o, o + 9 * 3600))
    b.oracle.value("BTC", o + 9 * 3600)
    ks = range(o, o + 9 * 3600, 17)
    assert [a.oracle.value("BTC", k) for k in ks] == [b.oracle.value("BTC", k) for k in ks]
    assert [a.oracle.delivered_at("BTC", k) for k in ks] == [b.oracle.delivered_at("BTC", k) for k in ks]
