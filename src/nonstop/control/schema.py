"""control.json: the one document an operator steers a running bot with.

Refused whole when any field is out of range or unknown: the bot keeps the last
good document. Every message names the field, the value and what is allowed
(`nonstop.control.explain` turns pydantic's errors into those sentences).

Numbers and booleans are strict (no "5" for 5, no "off" for false): a document a
person typed wrong is refused rather than guessed at.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from nonstop.markets import ASSETS, TIMEFRAMES

SCHEMA_VERSION = 1
MAX_REVISION = 2**53 - 1  # stays exact in JavaScript (Mission Control)

AssetName = Literal[ASSETS]  # type: ignore[valid-type]
TimeframeName = Literal[tuple(TIMEFRAMES)]  # type: ignore[valid-type]
SlotId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
ParamName = Annotated[str, Field(min_length=1, max_length=64)]
OrderUsd = Annotated[float, Field(strict=True, gt=0, le=100_000)]
CapUsd = Annotated[float, Field(strict=True, gt=0, le=100_000_000)]


class Mode(str, Enum):
    ACTIVE = "ACTIVE"  # trade normally
    PAUSED = "PAUSED"  # no new orders, resting orders cancelled, positions ride to resolution
    REDUCE_ONLY = "REDUCE_ONLY"  # only orders that shrink exposure
    HALTED = "HALTED"  # kill switch: cancel everything, refuse every order until resumed


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Sizing(_Strict):
    order_usd: OrderUsd = Field(10.0, description="USD per order unless the strategy asks for less")
    order_usd_per_asset: dict[AssetName, OrderUsd] = Field(default_factory=dict)
    max_exposure_window_usd: CapUsd = 100.0
    max_exposure_asset_usd: dict[AssetName, CapUsd] = Field(default_factory=dict)
    max_exposure_asset_default_usd: CapUsd = 500.0
    max_exposure_total_usd: CapUsd = 2_000.0
    max_daily_loss_usd: CapUsd = Field(500.0, description="realised loss of the UTC day that halts the bot")

    def order_usd_for(self, asset: str) -> float:
        return self.order_usd_per_asset.get(asset, self.order_usd)

    def asset_cap(self, asset: str) -> float:
        return self.max_exposure_asset_usd.get(asset, self.max_exposure_asset_default_usd)


class Toggles(_Strict):
    assets: dict[AssetName, StrictBool] = Field(default_factory=lambda: {a: True for a in ASSETS})
    timeframes: dict[TimeframeName, StrictBool] = Field(  # type: ignore[valid-type]
        default_factory=lambda: {t: True for t in TIMEFRAMES})
    slots: dict[SlotId, StrictBool] = Field(default_factory=dict)

    def slot_enabled(self, slot_id: str, asset: str, timeframe: str) -> bool:
        return (self.assets.get(asset, True) and self.timeframes.get(timeframe, True)
                and self.slots.get(slot_id, True))


class RollbackRequest(_Strict):
    """Reinstate an earlier generation of a strategy module; `id` makes each request distinct."""

    id: int = Field(strict=True, ge=1, le=MAX_REVISION)
    strategy: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    to_generation: int | None = Field(None, strict=True, ge=1)
    requested_at: datetime | None = None
    requested_by: str = Field("", max_length=200)


class Requests(_Strict):
    rollback: list[RollbackRequest] = Field(default_factory=list, max_length=100)
    # Bumped by an explicit resume (`nonstop ctl resume`, ControlWriter.resume): lifts a halt the bot
    # declared itself (the daily-loss breaker), which no other edit of an ACTIVE document may lift.
    resume: int = Field(0, strict=True, ge=0, le=MAX_REVISION)

    @field_validator("rollback")
    @classmethod
    def _distinct_ids(cls, value: list[RollbackRequest]) -> list[RollbackRequest]:
        ids = [r.id for r in value]
        if len(ids) != len(set(ids)):
            raise ValueError(f"ids {ids} repeat; allowed: each request with its own id")
        return value


class ControlDoc(_Strict):
    schema_version: int = Field(SCHEMA_VERSION, strict=True, ge=SCHEMA_VERSION, le=SCHEMA_VERSION)
    revision: int = Field(1, strict=True, ge=1, le=MAX_REVISION)
    updated_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    updated_by: str = Field("init", min_length=1, max_length=200)
    mode: Mode = Mode.ACTIVE
    halt_reason: str = Field("", max_length=2000)
    sizing: Sizing = Field(default_factory=Sizing)
    toggles: Toggles = Field(default_factory=Toggles)
    slot_params: dict[SlotId, dict[ParamName, Any]] = Field(default_factory=dict)
    requests: Requests = Field(default_factory=Requests)

    def content(self) -> dict[str, Any]:
        """The document without its bookkeeping (revision, updated_*): what a change changes."""
        return self.model_dump(mode="json", exclude={"revision", "updated_at", "updated_by"})


WRITER_FIELDS = ("revision", "updated_at", "updated_by")  # set by the writer, never by a change
