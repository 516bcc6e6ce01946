"""The status.json schema (pydantic), shared by the bot, `nonstop status` and Mission Control."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

STATUS_SCHEMA_VERSION = 1


class Heartbeat(BaseModel):
    wall: float
    venue: float
    cycle: int
    cycle_ms: float  # steps 1-7 of the last cycle
    status_ms: float = 0.0  # building and writing the status.json before this one (step 8)
    period_s: float
    pid: int


class ControlState(BaseModel):
    applied_revision: int = 0
    mode: str = "ACTIVE"
    halt_reason: str = ""
    refused: dict[str, Any] | None = None  # {revision, reason, time}


class SlotState(BaseModel):
    id: str
    strategy: str
    asset: str
    timeframe: str
    enabled: bool = True
    window: str | None = None
    seconds_left: float | None = None
    price_to_beat: float | None = None
    armed: bool = False
    fired: bool = False
    last_decision: str = ""
    generation: int | None = None
    errors: int = 0


class PositionState(BaseModel):
    slot: str
    window: str
    asset: str
    timeframe: str
    up_shares: float
    down_shares: float
    cost: float
    fees: float
    open_orders: int


class TradeState(BaseModel):
    slot: str
    window: str
    asset: str
    timeframe: str
    outcome: str  # the side held
    winner: str
    shares: float
    cost: float
    fees: float
    payout: float
    pnl: float
    closed_at: float


class StrategyState(BaseModel):
    name: str
    module: str
    generation: int
    hash: str
    loaded_at: float
    file_hash: str | None = None
    differs_from_file: bool = False
    pending: list[str] = Field(default_factory=list)
    last_failure: dict[str, Any] | None = None
    history: list[dict[str, Any]] = Field(default_factory=list)


class ErrorState(BaseModel):
    time: float
    where: str
    message: str


class Totals(BaseModel):
    cash: float
    equity: float
    realized_pnl: float
    fees: float
    trades: int
    wins: int
    orders: int
    fills: int
    daily_pnl: float = 0.0


class StatusDoc(BaseModel):
    schema_version: int = STATUS_SCHEMA_VERSION
    venue: str
    heartbeat: Heartbeat
    control: ControlState
    totals: Totals
    slots: list[SlotState]
    positions: list[PositionState]
    recent_trades: list[TradeState]
    strategies: list[StrategyState]
    rate_limits: dict[str, dict[str, float]] = Field(default_factory=dict)
    errors: list[ErrorState] = Field(default_factory=list)
    pnl_curve: list[tuple[float, float]] = Field(default_factory=list)  # (venue time, realized pnl)
    extra: dict[str, Any] = Field(default_factory=dict)
