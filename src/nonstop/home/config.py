"""nonstop.toml: the static config of a home (venue, slots, strategy params)."""

from __future__ import annotations

import tomllib
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from nonstop.errors import UserError
from nonstop.home.paths import Home
from nonstop.markets import ASSETS, TIMEFRAMES

VENUES = ("sim", "replay", "polymarket")


class SlotConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    module: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    class_name: str = Field(alias="class", min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    asset: str
    timeframe: str
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("asset")
    @classmethod
    def _asset(cls, value: str) -> str:
        if value not in ASSETS:
            raise ValueError(f"unknown asset {value!r}; use one of {', '.join(ASSETS)}")
        return value

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        if value not in TIMEFRAMES:
            raise ValueError(f"unknown timeframe {value!r}; use one of {', '.join(TIMEFRAMES)}")
        return value


class EngineConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    period_s: float = Field(1.0, gt=0, le=60)
    starting_cash: float = Field(1000.0, gt=0)
    status_every: int = Field(1, ge=1, description="write status.json every N cycles")
    decide_budget_ms: float = Field(50.0, gt=0)
    rollback_after_failures: int = Field(3, ge=1)


class HomeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    venue: str = "sim"
    seed: int = 7
    engine: EngineConfig = Field(default_factory=EngineConfig)
    sim: dict[str, Any] = Field(default_factory=dict)
    polymarket: dict[str, Any] = Field(default_factory=dict)
    slots: list[SlotConfig] = Field(alias="slot", default_factory=list)

    @field_validator("venue")
    @classmethod
    def _venue(cls, value: str) -> str:
        if value not in VENUES:
            raise ValueError(f"unknown venue {value!r}; use one of {', '.join(VENUES)}")
        return value

    @model_validator(mode="after")
    def _unique_slots(self) -> "HomeConfig":
        seen: set[str] = set()
        for slot in self.slots:
            if slot.id in seen:
                raise ValueError(f"slot id {slot.id!r} appears twice; give each [[slot]] its own id")
            seen.add(slot.id)
        return self


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts)


def load_config(home: Home) -> HomeConfig:
    """Parse and validate nonstop.toml; UserError naming the field and the fix otherwise."""
    if not home.config.exists():
        raise UserError(f"{home.config}: no such file; create a home with `nonstop init {home.root}`")
    try:
        raw = tomllib.loads(home.config.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{home.config}: not valid TOML ({exc}); fix the syntax") from None
    try:
        config = HomeConfig.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _field_path(tuple(err["loc"])) or "nonstop.toml"
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise UserError(f"{home.config}: {where}: {msg}") from None
    for slot in config.slots:
        path = home.strategies / f"{slot.module}.py"
        if not path.exists():
            raise UserError(f"{home.config}: slot {slot.id!r}: strategy file {path} is missing; "
                            f"create it or fix `module` in that [[slot]]")
    return config
