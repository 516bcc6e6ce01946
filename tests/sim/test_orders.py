"""Order handling: validation, taker delay, FOK/FAK, resting orders, expiry, fees."""

from __future__ import annotations

import pytest

from nonstop.markets import Outcome, taker_fee
from nonstop.venues.base import Fill, OrderStatus, OrderType, OrderUpdate, Side
from nonstop.venues.sim import SimExchange

from tests.sim.conftest import Harness, small_config


def _updates(h: Harness, cid: str) -> list[OrderUpdate]:
    return [e for e in h.events if isinstance(e, OrderUpdate) and e.client_id == cid]


def _fills(h: Harness, cid: str) -> list[Fill]:
    return [e for e in h.events if isinstance(e, Fill) and e.client_id == cid]


def test_fee_formula_values() -> None:
    assert taker_fee(100, 0.5) == pytest.approx(1.75)
    assert taker_fee(100, 0.97) == pytest.approx(0.2037)


def test_size_below_minimum_is_refused_naming_the_minimum(harness: Harness) -> None:
    harness.run(20)
    harness.order("tiny", harness.market(), 0.5, 3, OrderType.FAK)
    harness.run(2)
    (u,) = _updates(harness, "tiny")
    assert u.status is OrderStatus.REJECTED and "minimum" in u.reason and "5" in u.reason


def test_price_off_the_tick_grid_is_refused(harness: Harness) -> None:
    harness.run(20)
    harness.order("odd", harness.market(), 0.505, 10, OrderType.GTC)
    harness.run(2)
    (u,) = _updates(harness, "odd")
    assert u.status is OrderStatus.REJECTED and "tick" in u.reason


def test_taker_waits_out_the_delay_and_fills_at_the_book_then() -> None:
    cfg = small_config()
    h = Harness(11, cfg)
    h.run(30)
    info = h.market()
    placed = h.now
    h.order("t", info, 0.99, 50, OrderType.FAK)
    # An identical exchange, asked for the book at the moment the delay ends, before anything traded.
    twin = SimExchange(11, cfg)
    twin.advance(placed)
    at = placed + cfg.order_latency_s + cfg.taker_delay_s
    expected = twin.book(info.up_token, at=at)
    h.run(3)
    ups = _updates(h, "t")
    assert ups[0].status is OrderStatus.DELAYED and ups[0].ts == pytest.approx(placed + cfg.order_latency_s)
    assert ups[-1].status is OrderStatus.FILLED
    fills = _fills(h, "t")
    assert fills and all(f.ts == pytest.approx(at) and not f.maker for f in fills)
    assert expected is not None
    walked, left = [], 50.0
    for lvl in expected.asks:
        take = min(lvl.size, left)
        walked.append((lvl.price, round(take, 6)))
        left -= take
        if left <= 1e-9:
            break
    assert [(f.price, f.size) for f in fills] == walked
    for f in fills:
        assert f.fee == taker_fee(f.size, f.price, cfg.fee_rate, cfg.fee_exponent)


def test_fok_larger_than_depth_is_cancelled_without_fill(harness: Harness) -> None:
    harness.run(30)
    info = harness.market()
    book = harness.venue.book(info.up_token)
    assert book is not None and book.best_ask is not None
    harness.order("fok", info, book.best_ask, 10_000_000, OrderType.FOK)
    harness.run(3)
    assert _updates(harness, "fok")[-1].status is OrderStatus.CANCELLED
    assert "FOK" in _updates(harness, "fok")[-1].reason
    assert _fills(harness, "fok") == []


def test_fak_fills_what_is_there_and_cancels_the_rest(harness: Harness) -> None:
    harness.run(30)
    info = harness.market()
    book = harness.venue.book(info.up_token)
    assert book is not None and book.best_ask is not None
    harness.order("fak", info, round(min(book.best_ask + 0.02, 0.99), 2), 10_000_000, OrderType.FAK)
    harness.run(3)
    last = _updates(harness, "fak")[-1]
    filled = sum(f.size for f in _fills(harness, "fak"))
    assert last.status is OrderStatus.CANCELLED and 0 < filled < 10_000_000
    assert last.filled == pytest.approx(filled)


def test_two_takers_cannot_take_the_same_shares(harness: Harness) -> None:
    harness.run(30)
    info = harness.market()
    book = harness.venue.book(info.up_token)
    assert book is not None and book.best_ask is not None
    limit = round(min(book.best_ask + 0.02, 0.99), 2)
    harness.order("a", info, limit, 10_000_000, OrderType.FAK)
    harness.order("b", info, limit, 10_000_000, OrderType.FAK)
    harness.run(2)
    assert sum(f.size for f in _fills(harness, "a")) > 0
    assert sum(f.size for f in _fills(harness, "b")) < sum(f.size for f in _fills(harness, "a"))


def test_resting_bid_is_filled_by_flow_as_maker_without_fee() -> None:
    h = Harness(3, small_config())
    h.run(20)
    info = h.market()
    book = h.venue.book(info.up_token)
    assert book is not None and book.best_bid is not None
    h.order("rest", info, book.best_bid, 5, OrderType.GTC)
    h.run(250)
    ups = _updates(h, "rest")
    assert ups[0].status is OrderStatus.LIVE
    fills = _fills(h, "rest")
    assert fills, "a bid at the touch should meet some sell flow within minutes"
    assert all(f.maker and f.fee == 0.0 and f.price == book.best_bid for f in fills)


def test_gtd_expires(harness: Harness) -> None:
    harness.run(20)
    harness.order("gtd", harness.market(), 0.01, 10, OrderType.GTD, expires_at=harness.now + 30)
    harness.run(40)
    ups = _updates(harness, "gtd")
    assert [u.status for u in ups] == [OrderStatus.LIVE, OrderStatus.EXPIRED]
    assert ups[-1].ts == pytest.approx(harness.now - 40 + 30)


def test_cancel_resting_order(harness: Harness) -> None:
    harness.run(20)
    harness.order("c", harness.market(), 0.01, 10, OrderType.GTC)
    harness.run(2)
    assert [o.client_id for o in harness.venue.open_orders()] == ["c"]
    harness.venue.cancel("c", harness.now)
    harness.run(2)
    assert _updates(harness, "c")[-1].status is OrderStatus.CANCELLED
    assert harness.venue.open_orders() == []


def test_nothing_fills_after_the_end() -> None:
    h = Harness(6)
    info = h.market()
    h.run(info.end - h.now - 10)
    up = h.venue.book(info.up_token)
    assert up is not None and up.mid is not None
    favourite = Outcome.UP if up.mid >= 0.5 else Outcome.DOWN
    h.order("late_rest", info, 0.01, 10, OrderType.GTC, outcome=favourite)  # far below the favourite's bid
    h.run(9.9, step=0.1)
    h.order("late_taker", info, 0.99, 10, OrderType.FAK)  # its delay ends after the close
    h.run(5)
    assert _updates(h, "late_rest")[-1].status is OrderStatus.CANCELLED
    assert _updates(h, "late_rest")[-1].ts == info.end
    assert _updates(h, "late_taker")[-1].status is OrderStatus.CANCELLED
    assert all(f.ts < info.end for f in h.events if isinstance(f, Fill))
    h.order("after", info, 0.5, 10, OrderType.FAK)
    h.run(2)
    assert _updates(h, "after")[-1].status is OrderStatus.REJECTED


def test_selling_more_than_held_is_refused(harness: Harness) -> None:
    harness.run(20)
    harness.order("s", harness.market(), 0.5, 10, OrderType.FAK, outcome=Outcome.DOWN, side=Side.SELL)
    harness.run(2)
    u = _updates(harness, "s")[-1]
    assert u.status is OrderStatus.REJECTED and "balance" in u.reason


def test_crossing_gtc_takes_then_rests_the_remainder(harness: Harness) -> None:
    harness.run(30)
    info = harness.market()
    book = harness.venue.book(info.up_token)
    assert book is not None and book.best_ask is not None
    price = round(min(book.best_ask + 0.02, 0.99), 2)
    harness.order("x", info, price, 1_000_000, OrderType.GTC)
    harness.run(1)
    ups = _updates(harness, "x")
    assert ups[0].status is OrderStatus.DELAYED  # the crossing part is a taker: it waits out the delay
    assert ups[-1].status is OrderStatus.PARTIAL and 0 < ups[-1].filled < 1_000_000
    taker = [f for f in _fills(harness, "x") if not f.maker]
    assert taker and all(f.fee > 0 and f.price <= price for f in taker)
    assert [o.status for o in harness.venue.open_orders()] == [OrderStatus.PARTIAL]
