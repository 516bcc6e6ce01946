"""Windows open on unix multiples of their length, resolve exactly at their end, by the configured rule."""

from __future__ import annotations

import pytest

from nonstop.markets import Outcome
from nonstop.venues.base import MarketListed, OracleTick, Resolution
from nonstop.venues.sim import resolve

from tests.sim.conftest import Harness, small_config


def test_windows_slugs_and_resolution_times() -> None:
    cfg = small_config(timeframes=("5m", "15m"), publish_delay_s=120.0)
    h = Harness(2, cfg)
    h.run(1800)
    listed = {e.info.slug: e.info for e in h.events if isinstance(e, MarketListed)}
    assert listed
    for info in listed.values():
        length = 300 if info.timeframe == "5m" else 900
        assert info.start % length == 0 and info.end == info.start + length
        assert info.slug == f"btc-updown-{info.timeframe}-{info.start}"
        assert info.up_token != info.down_token
    resolutions = [e for e in h.events if isinstance(e, Resolution)]
    assert len(resolutions) >= 6
    for r in resolutions:
        assert r.ts == listed[r.slug].end
    # The outcome is published publish_delay_s after the end: find the poll that returned it.
    h2 = Harness(2, cfg)
    seen_at: dict[str, float] = {}
    for _ in range(1800):
        for e in h2.run(1):
            if isinstance(e, Resolution):
                seen_at[e.slug] = h2.now
    for r in resolutions:
        assert seen_at[r.slug] == r.ts + 120.0


def test_price_to_beat_arrives_after_the_start_sample() -> None:
    h = Harness(4)
    h.run(304)  # the start sample reaches us up to 3 s late
    updates = [e.info for e in h.events if isinstance(e, MarketListed) and e.info.start == h.venue.start_time + 300]
    assert updates[0].price_to_beat is None  # listed ahead of its start
    assert updates[-1].price_to_beat is not None


def test_resolve_twap_tie_goes_up() -> None:
    samples = {t: 100.0 for t in range(0, 400)}
    r = resolve(samples, 60, 360, "twap")
    assert r.winner is Outcome.UP and r.final_value == r.price_to_beat == 100.0


def test_resolve_twap_and_spot_rules_can_disagree() -> None:
    samples = {t: 100.0 for t in range(0, 400)}
    samples[360] = 99.0  # the last sample dips: spot says Down, the 60 s TWAP barely moves
    for t in range(301, 360):
        samples[t] = 100.1
    assert resolve(samples, 60, 360, "spot").winner is Outcome.DOWN
    assert resolve(samples, 60, 360, "twap").winner is Outcome.UP
    assert resolve(samples, 60, 360, "twap").final_value == pytest.approx((59 * 100.1 + 99.0) / 60)


@pytest.mark.parametrize("rule", ["twap", "spot"])
def test_simulated_resolution_follows_the_oracle_it_published(rule: str) -> None:
    h = Harness(5, small_config(resolution_rule=rule, publish_delay_s=5.0))
    h.run(620)
    oracle = {int(e.ts): e.price for e in h.events if isinstance(e, OracleTick) and e.asset == "BTC"}
    resolutions = [e for e in h.events if isinstance(e, Resolution)]
    assert resolutions
    for r in resolutions:
        start = int(r.ts) - 300
        expect = resolve(oracle, start, int(r.ts), rule)  # type: ignore[arg-type]
        assert (r.winner, r.final_value, r.price_to_beat) == (expect.winner, expect.final_value, expect.price_to_beat)
