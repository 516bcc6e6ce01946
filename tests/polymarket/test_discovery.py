"""Discovery across a window boundary, and resolution, on a sped-up fake (paper mode)."""

from __future__ import annotations

import math

import pytest

from nonstop.markets import Outcome
from nonstop.venues.base import MarketListed, Resolution
from tests.polymarket.conftest import Pump, start_fake, stop_fake

BOUNDARY = 1_795_000_200  # a multiple of 300 (and 900)


@pytest.fixture(scope="module")
def fast_fake():  # type: ignore[no-untyped-def]
    f = start_fake("--assets", "BTC", "--timeframes", "5m", "--speed", "30", "--start", str(BOUNDARY - 150))
    yield f
    stop_fake(f)


def test_current_and_next_window_across_a_boundary_then_resolution(fast_fake, make_venue) -> None:
    p = Pump(make_venue(fast_fake, None))
    slugs = lambda: {e.info.slug for e in p.of(MarketListed)}  # noqa: E731
    p.until(lambda: len(slugs()) >= 2, what="the first listings")
    t0 = p.venue.clock.now()
    cur = int(t0 // 300 * 300)
    assert {f"btc-updown-5m-{cur}", f"btc-updown-5m-{cur + 300}"} <= slugs()  # the current and the next window
    if t0 < cur + 280:  # (not about to cross already)
        assert f"btc-updown-5m-{cur + 600}" not in slugs()  # only current + next are looked up
    # after the boundary the window after next becomes "next" and is discovered
    p.until(lambda: f"btc-updown-5m-{cur + 600}" in slugs(), timeout=30, what="the new next window")
    assert p.venue.clock.now() >= cur + 300
    infos = {e.info.slug: e.info for e in p.of(MarketListed)}
    old = infos[f"btc-updown-5m-{cur}"]
    assert (old.start, old.end, old.twap_lookback_s, old.min_size) == (cur, cur + 300, 60, 5.0)
    assert old.up_token != old.down_token and old.fee_rate == pytest.approx(0.07)
    assert old.price_to_beat is not None
    # the old window resolves (the fake publishes two minutes after the end): winner, final value, ptb
    res = p.until(lambda: p.of(Resolution, slug=old.slug), timeout=40, what="the resolution")[0]
    assert res.winner in (Outcome.UP, Outcome.DOWN) and res.ts == cur + 300
    assert res.price_to_beat == pytest.approx(old.price_to_beat)
    assert math.isfinite(res.final_value)
    assert (res.final_value >= res.price_to_beat) == (res.winner is Outcome.UP)
    assert len(p.of(Resolution, slug=old.slug)) == 1
