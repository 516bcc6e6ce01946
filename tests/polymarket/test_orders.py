"""Orders signed and posted through polymarket-client against the fake, and what comes back."""

from __future__ import annotations

import pytest

from nonstop.venues.base import Fill, OrderStatus, OrderUpdate
from nonstop.markets import Outcome
from tests.polymarket.conftest import Pump, cheap, deep_bid, order, tick_up


@pytest.fixture
def pump(fake, make_venue, request):  # type: ignore[no-untyped-def]
    p = Pump(make_venue(fake, request.node.name))
    p.market = p.until(p.current_market, what="an open market with books")
    return p


def final(p: Pump, cid: str) -> OrderUpdate:
    return p.until(lambda: next((e for e in p.of(OrderUpdate, client_id=cid) if e.status.is_final), None),
                   what=f"{cid} final")


def test_signed_order_rests_under_its_eip712_id_and_cancels(pump, fake) -> None:
    info = pump.market
    pump.venue.place(order(info, "t.1", "BUY", deep_bid(pump.venue, info), 10), pump.venue.clock.now())
    live = pump.until(lambda: pump.of(OrderUpdate, client_id="t.1", status=OrderStatus.LIVE), what="LIVE")[0]
    # The fake names orders by the EIP-712 hash of what the SDK signed and recovers the signer
    # from the signature: an order that was not signed by the SDK as the docs say is refused.
    assert live.venue_order_id.startswith("0x") and len(live.venue_order_id) == 66
    acct = fake.state()["accounts"][pump.venue.account["api_key"]]
    assert acct["orders"] == 1 and acct["open_orders"] == 1
    assert [v.client_id for v in pump.venue.open_orders()] == ["t.1"]
    pump.venue.cancel("t.1", pump.venue.clock.now())
    done = final(pump, "t.1")
    assert done.status is OrderStatus.CANCELLED and done.filled == 0
    assert pump.venue.open_orders() == []


def test_crossing_fak_fills_once_settled_with_the_taker_fee(pump) -> None:
    info = pump.market
    side = cheap(pump.venue, info)
    pump.venue.place(order(info, "t.2", "BUY", round(1 - info.tick_size, 3), 6, "FAK", side),
                     pump.venue.clock.now())
    final(pump, "t.2")
    statuses = [e.status for e in pump.of(OrderUpdate, client_id="t.2")]
    assert statuses[:2] == [OrderStatus.PENDING, OrderStatus.DELAYED]  # the venue's taker delay
    fills = pump.of(Fill, client_id="t.2")
    assert fills and statuses[-1] in (OrderStatus.FILLED, OrderStatus.CANCELLED)
    for f in fills:
        assert not f.maker and f.fee == pytest.approx(round(f.size * 0.07 * f.price * (1 - f.price), 5), abs=3e-5)
    assert len({f.fill_id for f in fills}) == len(fills)
    assert final(pump, "t.2").filled == pytest.approx(sum(f.size for f in fills))


def test_refusals_come_back_as_rejected_with_the_venue_reason(pump) -> None:
    info = pump.market
    bid = pump.venue.book(info.up_token).best_bid
    now = pump.venue.clock.now()
    pump.venue.place(order(info, "t.3", "BUY", deep_bid(pump.venue, info), 2), now)  # below 5 shares
    pump.venue.place(order(info, "t.4", "SELL", tick_up(min(bid + 0.05, 0.9), info.tick_size), 10), now)  # holds none
    small, naked = final(pump, "t.3"), final(pump, "t.4")
    assert small.status is OrderStatus.REJECTED and "minimum" in small.reason
    assert naked.status is OrderStatus.REJECTED and "balance" in naked.reason


def test_a_second_place_of_the_same_client_id_is_not_a_second_order(pump, fake) -> None:
    info = pump.market
    req = order(info, "t.5", "BUY", deep_bid(pump.venue, info), 7)
    pump.venue.place(req, pump.venue.clock.now())
    pump.until(lambda: pump.of(OrderUpdate, client_id="t.5", status=OrderStatus.LIVE), what="LIVE")
    pump.venue.place(req, pump.venue.clock.now())
    pump.until(lambda: True)
    acct = fake.state()["accounts"][pump.venue.account["api_key"]]
    assert acct["orders"] == 1 and acct["open_orders"] == 1
    pump.venue.cancel_all(pump.venue.clock.now())
    assert final(pump, "t.5").status is OrderStatus.CANCELLED


def test_a_cancel_during_the_taker_delay_waits_for_it_to_end(pump, fake) -> None:
    info = pump.market
    side = cheap(pump.venue, info)
    book = pump.venue.book(info.token(Outcome(side)))
    # a GTC crossing the book is a taker first (DELAYED), then rests its remainder
    big = round(sum(lv.size for lv in book.asks[:1]) + 50, 2)
    price = tick_up(book.best_ask + 0.02, info.tick_size)  # through the ask even if the book moves a little
    pump.venue.place(order(info, "t.6", "BUY", price, big, outcome=side), pump.venue.clock.now())
    pump.until(lambda: pump.of(OrderUpdate, client_id="t.6", status=OrderStatus.DELAYED), what="DELAYED")
    pump.venue.cancel("t.6", pump.venue.clock.now())  # the venue cannot cancel it yet
    done = final(pump, "t.6")
    assert done.status in (OrderStatus.CANCELLED, OrderStatus.FILLED)
    assert fake.state()["accounts"][pump.venue.account["api_key"]]["open_orders"] == 0


def test_a_gtd_shorter_than_the_venue_minimum_expires_on_time(pump) -> None:
    info = pump.market
    now = pump.venue.clock.now()
    pump.venue.place(order(info, "t.7", "BUY", deep_bid(pump.venue, info), 5, "GTD", expires_at=now + 3),
                     now)
    done = final(pump, "t.7")
    assert done.status is OrderStatus.EXPIRED and done.ts >= now + 3


def test_paper_mode_fills_against_the_real_book_and_sends_nothing(fake, make_venue) -> None:
    p = Pump(make_venue(fake, None))
    info = p.until(p.current_market, what="a market")
    side = cheap(p.venue, info)
    book = p.venue.book(info.token(Outcome(side)))
    before = {k: a["orders"] for k, a in fake.state()["accounts"].items()}
    p.venue.place(order(info, "p.1", "BUY", round(1 - info.tick_size, 3), 5, "FAK", side),
                  p.venue.clock.now())
    done = final(p, "p.1")
    statuses = [e.status for e in p.of(OrderUpdate, client_id="p.1")]
    assert statuses[0] is OrderStatus.DELAYED and done.status in (OrderStatus.FILLED, OrderStatus.CANCELLED)
    for f in p.of(Fill, client_id="p.1"):
        assert f.fee == pytest.approx(round(f.size * 0.07 * f.price * (1 - f.price), 5), abs=3e-5)
    assert p.of(Fill, client_id="p.1")  # the book had depth at the ask
    assert {k: a["orders"] for k, a in fake.state()["accounts"].items()} == before  # nothing was sent
