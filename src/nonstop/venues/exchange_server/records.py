"""What the fake keeps per API key: orders (by CLOB order id), trades and their settlement, cash.

The simulator's matching engine keys orders by (account, client id); the fake uses the CLOB
order id (the EIP-712 hash of the signed order) as that client id and the API key as the
account, so the wire and the simulator name an order the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nonstop.markets import MarketInfo
from nonstop.venues.base import Fill, OrderRequest
from nonstop.venues.exchange_server.wire import condition_id, num

# Trade settlement: MATCHED -> MINED -> CONFIRMED, or MATCHED -> RETRYING -> FAILED.
SETTLE_PATH = {False: ("MINED", "CONFIRMED"), True: ("RETRYING", "FAILED")}


@dataclass
class OrderRec:
    id: str
    api_key: str
    maker: str
    req: OrderRequest
    info: MarketInfo
    created_at: float
    wire_type: str  # GTC / GTD / FOK / FAK
    expiration: int
    status: str = "PENDING"  # LIVE, DELAYED, MATCHED, CANCELED, or REJECTED (never listed)
    size_matched: float = 0.0
    trades: list[str] = field(default_factory=list)
    reject_reason: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in ("LIVE", "DELAYED")

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "owner": self.api_key, "maker_address": self.maker,
            "market": condition_id(self.info.slug), "asset_id": self.req.token_id, "side": self.req.side.value,
            "original_size": num(self.req.size), "size_matched": num(self.size_matched), "price": num(self.req.price),
            "outcome": self.req.outcome.value, "order_type": self.wire_type, "expiration": str(self.expiration),
            "associate_trades": list(self.trades), "created_at": int(self.created_at),
        }


@dataclass
class TradeRec:
    id: str
    api_key: str
    maker: str
    order_id: str
    fill: Fill
    info: MarketInfo
    fee_rate_bps: int
    status: str = "MATCHED"
    matched_at: float = 0.0
    updated_at: float = 0.0
    tx_hash: str = ""
    fails: bool = False

    def json(self) -> dict[str, Any]:
        f = self.fill
        other = "SELL" if f.side.value == "BUY" else "BUY"
        counterparty = "0x" + self.id.replace("-", "")[:40].ljust(40, "0")
        mine = {"order_id": self.order_id, "owner": self.api_key, "maker_address": self.maker,
                "matched_amount": num(f.size), "price": num(f.price), "fee_rate_bps": "0",
                "asset_id": f.token_id, "outcome": f.outcome.value, "side": f.side.value}
        theirs = {"order_id": "0x" + self.id.replace("-", "").ljust(64, "0")[:64], "owner": "sim-liquidity",
                  "maker_address": counterparty, "matched_amount": num(f.size), "price": num(f.price),
                  "fee_rate_bps": "0", "asset_id": f.token_id, "outcome": f.outcome.value, "side": other}
        return {
            "id": self.id, "market": condition_id(self.info.slug), "asset_id": f.token_id,
            # the trade's side is the taker's: ours when we took, the other side when we made
            "side": f.side.value if not f.maker else other,
            "trader_side": "MAKER" if f.maker else "TAKER",
            "taker_order_id": self.order_id if not f.maker else theirs["order_id"],
            "maker_orders": [mine] if f.maker else [theirs],
            "size": num(f.size), "price": num(f.price), "fee_rate_bps": str(self.fee_rate_bps if not f.maker else 0),
            "status": self.status, "match_time": str(int(self.matched_at)), "last_update": str(int(self.updated_at)),
            "outcome": f.outcome.value, "bucket_index": 0, "owner": self.api_key, "maker_address": self.maker,
            "transaction_hash": self.tx_hash,
        }


@dataclass
class Account:
    api_key: str
    collateral: float
    tokens: dict[str, float] = field(default_factory=dict)
    heartbeat_id: str | None = None
    heartbeat_ok_at: float = 0.0  # wall (monotonic) time of the last accepted heartbeat
    heartbeat_expiries: int = 0

    def apply(self, fill: Fill, sign: int = 1) -> None:
        """Cash and shares after a fill (sign=-1 undoes a FAILED one). Takers pay the fee on top."""
        notional = fill.price * fill.size
        if fill.side.value == "BUY":
            self.collateral -= sign * (notional + fill.fee)
            self.tokens[fill.token_id] = self.tokens.get(fill.token_id, 0.0) + sign * fill.size
        else:
            self.collateral += sign * (notional - fill.fee)
            self.tokens[fill.token_id] = self.tokens.get(fill.token_id, 0.0) - sign * fill.size
