"""Both tokens, selling, and two accounts trading with each other through one SimExchange."""

from __future__ import annotations

import pytest

from nonstop.markets import MarketInfo, Outcome
from nonstop.venues.base import Fill, MarketListed, OrderRequest, OrderStatus, OrderType, OrderUpdate, Side
from nonstop.venues.sim import Delivered, SimExchange

from tests.sim.conftest import small_config


def _open(seed: int, **overrides: float) -> tuple[SimExchange, MarketInfo, list[Delivered]]:
    ex = SimExchange(seed, small_config(taker_delay_s=0.0, order_latency_s=0.0, **overrides))
    t = ex.start_time
    out = [d for i in range(0, 31) for d in ex.advance(t + i)]
    info = [d.event.info for d in out if isinstance(d.event, MarketListed)][0]
    return ex, info, out


def _req(cid: str, info: MarketInfo, outcome: Outcome, side: Side, price: float, size: float,
         kind: OrderType = OrderType.FAK) -> OrderRequest:
    return OrderRequest(cid, info.slug, info.token(outcome), outcome, side, price, size, kind)


def test_buying_down_walks_the_down_asks() -> None:
    ex, info, _ = _open(31)
    now = ex.now
    down = ex.book(info.down_token)
    assert down is not None and down.best_ask is not None
    ex.place(_req("d", info, Outcome.DOWN, Side.BUY, down.best_ask, 5), now)
    fills = [d.event for d in ex.advance(now + 0.5) if isinstance(d.event, Fill)]
    assert [(f.price, f.size, f.token_id) for f in fills] == [(down.best_ask, 5.0, info.down_token)]


def test_sell_what_was_bought_at_the_bid() -> None:
    ex, info, _ = _open(32)
    now = ex.now
    up = ex.book(info.up_token)
    assert up is not None and up.best_ask is not None
    ex.place(_req("b", info, Outcome.UP, Side.BUY, round(up.best_ask + 0.02, 2), 20), now)
    ex.advance(now + 0.5)
    assert ex.balance("main", info.up_token) == pytest.approx(20.0)
    up = ex.book(info.up_token)
    assert up is not None and up.best_bid is not None
    ex.place(_req("s", info, Outcome.UP, Side.SELL, round(up.best_bid - 0.02, 2), 20), ex.now)
    out = ex.advance(ex.now + 0.5)
    sells = [d.event for d in out if isinstance(d.event, Fill)]
    assert sum(f.size for f in sells) == pytest.approx(20.0) and all(f.side is Side.SELL for f in sells)
    assert ex.balance("main", info.up_token) == pytest.approx(0.0)


def test_a_taker_of_one_account_fills_a_resting_order_of_another() -> None:
    ex, info, _ = _open(33, spread=0.06)  # a wide spread leaves room to bid inside it
    now = ex.now
    up = ex.book(info.up_token)
    assert up is not None and up.best_bid is not None and up.best_ask is not None
    # Account "b" first buys shares it can sell later.
    ex.place(_req("b-buy", info, Outcome.UP, Side.BUY, round(up.best_ask + 0.02, 2), 10), now, account="b")
    ex.advance(now + 0.2)
    up = ex.book(info.up_token)
    assert up is not None and up.best_bid is not None and up.best_ask is not None
    inside = round(up.best_bid + 0.03, 2)  # the best bid by far: first in line
    ex.place(_req("a-bid", info, Outcome.UP, Side.BUY, inside, 10, OrderType.GTC), ex.now, account="a")
    ex.advance(ex.now + 0.1)
    ex.place(_req("b-sell", info, Outcome.UP, Side.SELL, inside, 10), ex.now, account="b")
    out = ex.advance(ex.now + 0.1)
    by_acct = {(d.account, d.event.client_id): d.event for d in out if isinstance(d.event, Fill)}
    maker, taker = by_acct[("a", "a-bid")], by_acct[("b", "b-sell")]
    assert maker.maker and maker.fee == 0.0 and maker.price == inside and maker.size == 10.0
    assert not taker.maker and taker.price == inside and taker.fee > 0
    statuses = {(d.account, d.event.client_id): d.event.status for d in out if isinstance(d.event, OrderUpdate)}
    assert statuses[("a", "a-bid")] is OrderStatus.FILLED and statuses[("b", "b-sell")] is OrderStatus.FILLED
