"""After a crash: a new venue object with the same key and home finds the orders, fills and shares
of the one before (what nonstop.state.recovery asks), and never places an order twice."""

from __future__ import annotations

import pytest

from nonstop.state.recovery import JournaledOrder
from nonstop.venues.base import Fill, OrderStatus, OrderUpdate
from nonstop.markets import Outcome
from tests.polymarket.conftest import Pump, cheap, deep_bid, order, start_fake, stop_fake


@pytest.fixture(scope="module")
def fake():  # type: ignore[no-untyped-def]
    # a restart within the venue's heartbeat window keeps the orders (the default 10 s is too short
    # for a loaded test machine); a longer outage cancels them, which test_faults covers
    f = start_fake("--assets", "BTC", "--timeframes", "5m", "--settle", "0.3", "--confirm", "0.6",
                   "--heartbeat-timeout", "120")
    yield f
    stop_fake(f)


def final(p: Pump, cid: str) -> OrderUpdate:
    return p.until(lambda: next((e for e in p.of(OrderUpdate, client_id=cid) if e.status.is_final), None),
                   what=f"{cid} final")


def journaled(req, venue_id: str = "") -> JournaledOrder:  # type: ignore[no-untyped-def]
    return JournaledOrder(req, OrderStatus.PENDING, 0.0, venue_id, 0.0)


def test_a_restarted_venue_reconciles_orders_fills_and_shares(fake, make_venue, tmp_path) -> None:
    a = Pump(make_venue(fake, "recovery", home=tmp_path, NONSTOP_POLYMARKET_MAX_RETRIES="0"))
    info = a.until(a.current_market, what="a market")
    rest = order(info, "r.1", "BUY", deep_bid(a.venue, info), 5)
    side = cheap(a.venue, info)
    take = order(info, "r.2", "BUY", round(1 - info.tick_size, 3), 5, "FOK", side)
    a.venue.place(rest, a.venue.clock.now())
    a.venue.place(take, a.venue.clock.now())
    a.until(lambda: a.of(OrderUpdate, client_id="r.1", status=OrderStatus.LIVE), what="r.1 LIVE")
    assert final(a, "r.2").status is OrderStatus.FILLED
    fill_ids = sorted(f.fill_id for f in a.of(Fill, client_id="r.2"))
    # a POST that never reached the venue (refused before processing, no retries in this venue)
    fake.faults(http=[{"path": "/order", "method": "POST", "status": 503, "when": "before"}])
    lost = order(info, "r.3", "BUY", deep_bid(a.venue, info, below=0.25), 5)
    a.venue.place(lost, a.venue.clock.now())
    final(a, "r.3")
    a.venue.close()  # the crash: nothing cancelled, the venue keeps everything

    b = Pump(make_venue(fake, "recovery", home=tmp_path))
    states = b.venue.order_states([journaled(rest), journaled(take), journaled(lost)])
    assert states["r.1"].status is OrderStatus.LIVE and states["r.1"].venue_order_id  # found via the order store
    assert states["r.2"].status is OrderStatus.FILLED and states["r.2"].filled >= 5 - 1e-6
    assert states["r.3"] is None  # the venue never received it
    fills = b.venue.fills_for([journaled(rest), journaled(take), journaled(lost)])
    assert sorted(f.fill_id for f in fills) == fill_ids  # the same ids the stream gave: applied once
    assert b.venue.positions()[info.token(Outcome(side))] >= 5 - 1e-6
    assert b.venue.resolution(info.slug) is None  # still open
    assert [v.client_id for v in b.venue.open_orders()] == ["r.1"]
    # the reconciler resends the lost intent under the same client id: the same signed order, once
    b.venue.place(lost, b.venue.clock.now())
    b.venue.place(rest, b.venue.clock.now())  # a known order is not sent again
    b.until(lambda: b.of(OrderUpdate, client_id="r.3", status=OrderStatus.LIVE), what="r.3 resent")
    acct = fake.state()["accounts"][b.venue.account["api_key"]]
    assert acct["orders"] == 3 and acct["open_orders"] == 2
    # and the order the venue still holds from the first run is followed again
    b.venue.cancel("r.1", b.venue.clock.now())
    assert final(b, "r.1").status is OrderStatus.CANCELLED
