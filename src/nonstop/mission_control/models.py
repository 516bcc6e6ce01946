"""Request and response bodies of the API (pydantic: every body is validated, unknown fields refused)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModeChange(_Body):
    """Optional body of /api/pause, /api/resume, /api/halt."""

    reason: str = Field("", max_length=2000, description="why; recorded as halt_reason by /api/halt")


class SizingChange(_Body):
    """Fields given replace the current ones; ranges are control.json's (see GET /api/control)."""

    order_usd: float | None = None
    order_usd_per_asset: dict[str, float] | None = None
    max_exposure_window_usd: float | None = None
    max_exposure_asset_usd: dict[str, float] | None = None
    max_exposure_asset_default_usd: float | None = None
    max_exposure_total_usd: float | None = None
    max_daily_loss_usd: float | None = None


class AssetToggle(_Body):
    enabled: bool


class RollbackBody(_Body):
    to_generation: int | None = Field(None, ge=1, description="omit for the generation before the live one")


class WriteResponse(BaseModel):
    revision: int
    control: dict[str, Any]
    diff: list[dict[str, Any]]


class HealthResponse(BaseModel):
    mission_control: str = "up"
    bot: str = Field(description="up | late | down | no status")
    heartbeat_age_s: float | None
    period_s: float | None
    wall_period_s: float | None
    down_after_s: float | None
    cycle: int | None
    pid: int | None
    mode: str | None
    server_time: float


class TradesResponse(BaseModel):
    source: str = Field(description="journal | status.json")
    trades: list[dict[str, Any]]
