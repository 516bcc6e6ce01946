"""A misbehaving venue: 429s, 5xx (before and after processing), slow answers, dropped sockets,
failed settlement, a lost heartbeat. No order is lost or placed twice; the bot notices."""

from __future__ import annotations

import time

import pytest

from nonstop.venues.base import BookUpdate, Fill, OrderStatus, OrderUpdate
from nonstop.markets import Outcome
from tests.polymarket.conftest import Pump, cheap, deep_bid, order


@pytest.fixture
def pump(fake, make_venue, request):  # type: ignore[no-untyped-def]
    fake.faults(clear=True)
    p = Pump(make_venue(fake, request.node.name))
    p.market = p.until(p.current_market, what="an open market with books")
    yield p
    fake.faults(clear=True)


def status_of(p: Pump, cid: str, *statuses: OrderStatus) -> OrderUpdate:
    return p.until(lambda: next((e for e in p.of(OrderUpdate, client_id=cid) if e.status in statuses), None),
                   what=f"{cid} in {statuses}")


def account(p: Pump, fake) -> dict:  # type: ignore[no-untyped-def]
    return fake.state()["accounts"][p.venue.account["api_key"]]


def resting(p: Pump, cid: str) -> object:
    return order(p.market, cid, "BUY", deep_bid(p.venue, p.market), 5)


def test_429_then_5xx_are_retried_and_the_order_is_placed_once(pump, fake) -> None:
    fake.faults(http=[{"path": "/order", "method": "POST", "status": 429, "count": 2, "retry_after": 0.1},
                      {"path": "/order", "method": "POST", "status": 503, "count": 1}])
    pump.venue.place(resting(pump, "f.1"), pump.venue.clock.now())
    status_of(pump, "f.1", OrderStatus.LIVE)
    assert pump.venue.stats()["order_retries"] == 3
    assert account(pump, fake)["orders"] == 1


def test_a_lost_answer_is_resent_as_the_same_signed_order_and_not_duplicated(pump, fake) -> None:
    # The venue processes the POST, then the answer is lost (a 502 after processing).
    fake.faults(http=[{"path": "/order", "method": "POST", "status": 502, "when": "after"}])
    pump.venue.place(resting(pump, "f.2"), pump.venue.clock.now())
    live = status_of(pump, "f.2", OrderStatus.LIVE)  # the user channel may say so before the resend returns
    pump.until(lambda: pump.venue.stats()["duplicates_resolved"] == 1, what="the resend refused as Duplicated")
    assert account(pump, fake)["orders"] == 1 and account(pump, fake)["open_orders"] == 1
    assert live.venue_order_id


def test_a_slow_venue_does_not_block_the_decision_loop(pump, fake) -> None:
    fake.faults(http=[{"path": "/order", "method": "POST", "status": 0, "delay_s": 1.5}])
    sent = time.monotonic()
    pump.venue.place(resting(pump, "f.3"), pump.venue.clock.now())
    polls = 0
    while not pump.of(OrderUpdate, client_id="f.3", status=OrderStatus.LIVE):
        pump.events += pump.venue.poll(pump.venue.clock.now())
        polls += 1
        time.sleep(0.02)
        assert time.monotonic() - sent < 20
    # place() and poll() returned at once while the POST waited on the I/O thread
    assert polls > 10
    assert account(pump, fake)["orders"] == 1


def test_gamma_errors_back_off_and_discovery_still_lists(fake, make_venue) -> None:
    fake.faults(clear=True, http=[{"path": f"/events/slug/btc-updown-5m-{int(fake.clock() // 300 * 300)}",
                                   "status": 500, "count": 2}])
    p = Pump(make_venue(fake, None))
    assert p.until(p.current_market, what="a market despite 5xx")
    assert p.venue.stats()["read_retries"] >= 2


def test_book_resync_after_a_dropped_socket(pump, fake) -> None:
    before = pump.venue.stats()["book_resyncs"]
    assert fake.faults(drop_sockets=True)["dropped_sockets"] >= 1
    pump.until(lambda: pump.venue.stats()["book_resyncs"] > before, what="a REST book resync")
    assert pump.venue.stats()["socket_losses"] >= 1
    # After the resync the local book follows the venue's again (same levels as its REST book, give
    # or take the updates in flight): compare the best levels once the stream is flowing.
    token = pump.market.up_token
    n = len(pump.of(BookUpdate))
    pump.until(lambda: len(pump.of(BookUpdate)) > n + 4, what="book updates after the reconnect")
    rest = fake.get(f"/book?token_id={token}")
    ours = pump.venue.book(token)
    assert ours is not None and rest["bids"] and ours.bids
    assert abs(float(rest["bids"][-1]["price"]) - ours.best_bid) <= 0.05


def test_settlement_failed_is_not_a_fill(pump, fake) -> None:
    fake.faults(fail_trades=1)
    info = pump.market
    side = cheap(pump.venue, info)
    pump.venue.place(order(info, "f.4", "BUY", round(1 - info.tick_size, 3), 5, "FAK", side),
                     pump.venue.clock.now())
    done = status_of(pump, "f.4", OrderStatus.CANCELLED, OrderStatus.FILLED, OrderStatus.REJECTED)
    # MATCHED -> RETRYING -> FAILED: that match never became a fill (a FAK may have matched more)
    fills = pump.of(Fill, client_id="f.4")
    assert done.status is OrderStatus.CANCELLED and "FAILED" in done.reason and done.filled < 5
    assert sum(f.size for f in fills) == pytest.approx(done.filled)
    # the next trade settles normally: MATCHED -> MINED gives the fill, once
    side = cheap(pump.venue, info)
    pump.venue.place(order(info, "f.5", "BUY", round(1 - info.tick_size, 3), 5, "FOK", side),
                     pump.venue.clock.now())
    ok = status_of(pump, "f.5", OrderStatus.FILLED)
    fills = pump.of(Fill, client_id="f.5")
    assert sum(f.size for f in fills) == pytest.approx(ok.filled) and ok.filled >= 5 - 1e-6


def test_lost_heartbeat_the_venue_cancels_and_the_bot_reconciles(pump, fake) -> None:
    pump.venue.place(resting(pump, "f.6"), pump.venue.clock.now())
    status_of(pump, "f.6", OrderStatus.LIVE)
    end = time.monotonic() + 1.0  # let a few heartbeats go through
    pump.until(lambda: time.monotonic() > end)
    fake.faults(heartbeats="ignore")
    done = status_of(pump, "f.6", OrderStatus.CANCELLED)
    assert "heartbeat" in done.reason
    assert account(pump, fake)["heartbeat_expiries"] >= 1 and account(pump, fake)["open_orders"] == 0
    assert pump.venue.open_orders() == []
    fake.faults(heartbeats="ok")
    pump.until(lambda: not pump.venue.stats()["heartbeat_lost"], what="heartbeats registered again")


def test_spot_prices_fall_back_to_binance_trades_while_rtds_is_down(fake, make_venue) -> None:
    from nonstop.venues.base import SpotTick

    fake.faults(clear=True)
    p = Pump(make_venue(fake, None, NONSTOP_POLYMARKET_SPOT_STALE_S="1"))
    p.until(lambda: p.of(SpotTick), what="spot prices over RTDS")
    fake.faults(rtds="off")
    p.until(lambda: p.venue.stats()["spot_fallback_active"], what="the Binance fallback")
    n = len(p.of(SpotTick))
    p.until(lambda: len(p.of(SpotTick)) > n + 3, what="spot prices from Binance trades")
    fake.faults(rtds="on")
    p.until(lambda: not p.venue.stats()["spot_fallback_active"], timeout=60, what="back on RTDS")
    assert p.venue.stats()["spot_fallbacks"] == 1
