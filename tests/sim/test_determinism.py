"""Same seed and same orders -> the same events, byte for byte; another seed -> another market."""

from __future__ import annotations

from nonstop.venues.base import Event, Fill, OrderType, TradePrint
from nonstop.venues.sim import SimConfig, SimExchange

from tests.sim.conftest import Harness, small_config


def _session(seed: int, config: SimConfig | None = None, step: float = 1.0) -> list[Event]:
    h = Harness(seed, config)
    h.run(40, step)
    info = h.market()
    book = h.venue.book(info.up_token)
    assert book is not None and book.best_ask is not None and book.best_bid is not None
    h.order("fak", info, round(min(book.best_ask + 0.02, 0.99), 2), 60, OrderType.FAK)
    h.order("gtc", info, round(max(book.best_bid - 0.01, 0.01), 2), 30, OrderType.GTC)
    h.run(200, step)
    return h.events


def test_same_seed_same_events_and_fills() -> None:
    a, b = _session(7), _session(7)
    assert repr(a) == repr(b)
    assert any(isinstance(e, Fill) for e in a)


def test_different_seed_differs() -> None:
    a, b = _session(7), _session(8)
    prints_a = [e for e in a if isinstance(e, TradePrint)]
    prints_b = [e for e in b if isinstance(e, TradePrint)]
    assert prints_a != prints_b


def test_market_data_does_not_depend_on_how_it_is_polled() -> None:
    """Chunked generation and lazy books: polling every 0.5 s or every 7 s sees the same market."""
    cfg = small_config()
    fast, slow = SimExchange(3, cfg), SimExchange(3, cfg)
    t0 = fast.start_time
    got_fast = [d for i in range(1, 2 * 4000 + 1) for d in fast.advance(t0 + i * 0.5)]
    got_slow = [d for i in range(1, 4000 // 7 + 2) for d in slow.advance(min(t0 + i * 7, t0 + 4000))]
    pick = (lambda ds: [d for d in ds if type(d.event).__name__ in ("SpotTick", "OracleTick", "TradePrint", "Resolution")])
    assert pick(got_fast) == pick(got_slow)
    up = fast.markets()[0].up_token
    assert fast.book(up, at=t0 + 4000.3) == slow.book(up, at=t0 + 4000.3)
