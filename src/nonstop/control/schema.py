"""control.json: the one document an operator steers a running bot with.

Refused whole when any field is out of range or unknown: the bot keeps the last
good document. Every message names the field, the value and what is allowed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nonstop.markets import ASSETS, TIMEFRAMES

SCHEMA_VERSION = 1


class Mode(str, Enum):
    ACTIVE = "ACTIVE"  # trade normally
    PAUSED = "PAUSED"  # no new orders, resting orders cancelled, positions ride to resolution
    REDUCE_ONLY = "REDUCE_ONLY"  # only orders that shrink exposure
    HALTED = "HALTED"  # kill switch: cancel everything, refuse every order until resumed


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sizing(_Strict):
    order_usd: float = Field(10.0, gt=0, le=100_000, description="USD per order unless the strategy says less")
    order_usd_per_asset: dict[str, float] = Field(default_factory=dict)
    max_exposure_window_usd: float = Field(100.0, gt=0, le=10_000_000)
    max_exposure_asset_usd: dict[str, float] = Field(default_factory=dict)
    max_exposure_asset_default_usd: float = Field(500.0, gt=0, le=10_000_000)
    max_exposure_total_usd: float = Field(2_000.0, gt=0, le=100_000_000)
    max_daily_loss_usd: float = Field(500.0, gt=0, le=100_000_000)

    @field_validator("order_usd_per_asset", "max_exposure_asset_usd")
    @classmethod
    def _known_assets_positive(cls, value: dict[str, float]) -> dict[str, float]:
        for asset, usd in value.items():
            if asset not in ASSETS:
                raise ValueError(f"asset {asset!r} is unknown; allowed: {', '.join(ASSETS)}")
            if not (0 < usd <= 10_000_000):
                raise ValueError(f"{asset}: {usd} is out of range; allowed: > 0 and <= 10000000")
        return value

    def order_usd_for(self, asset: str) -> float:
        return self.order_usd_per_asset.get(asset, self.order_usd)

    def asset_cap(self, asset: str) -> float:
        return self.max_exposure_asset_usd.get(asset, self.max_exposure_asset_default_usd)


class Toggles(_Strict):
    assets: dict[str, bool] = Field(default_factory=lambda: {a: True for a in ASSETS})
    timeframes: dict[str, bool] = Field(default_factory=lambda: {t: True for t in TIMEFRAMES})
    slots: dict[str, bool] = Field(default_factory=dict)

    @field_validator("assets")
    @classmethod
    def _assets_known(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = [a for a in value if a not in ASSETS]
        if unknown:
            raise ValueError(f"asset {unknown[0]!r} is unknown; allowed: {', '.join(ASSETS)}")
        return value

    @field_validator("timeframes")
    @classmethod
    def _timeframes_known(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = [t for t in value if t not in TIMEFRAMES]
        if unknown:
            raise ValueError(f"timeframe {unknown[0]!r} is unknown; allowed: {', '.join(TIMEFRAMES)}")
        return value

    def slot_enabled(self, slot_id: str, asset: str, timeframe: str) -> bool:
        return (self.assets.get(asset, True) and self.timeframes.get(timeframe, True)
                and self.slots.get(slot_id, True))


class RollbackRequest(_Strict):
    """Reinstate an earlier generation of a strategy module; `id` makes each request distinct."""

    id: int = Field(ge=1)
    strategy: str = Field(min_length=1, max_length=200)
    to_generation: int | None = Field(None, ge=1)


class Requests(_Strict):
    rollback: list[RollbackRequest] = Field(default_factory=list, max_length=100)


class ControlDoc(_Strict):
    schema_version: int = Field(SCHEMA_VERSION, ge=SCHEMA_VERSION, le=SCHEMA_VERSION)
    revision: int = Field(1, ge=1)
    updated_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    updated_by: str = Field("init", min_length=1, max_length=200)
    mode: Mode = Mode.ACTIVE
    halt_reason: str = Field("", max_length=2000)
    sizing: Sizing = Field(default_factory=Sizing)
    toggles: Toggles = Field(default_factory=Toggles)
    slot_params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    requests: Requests = Field(default_factory=Requests)
