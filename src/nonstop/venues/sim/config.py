"""Simulator settings: every knob of the fake market in one frozen model.

Defaults come from the microstructure reference (`updown-microstructure.md`, §1 and §3).
A config is part of a run's identity: same seed + same config + same orders -> same events.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nonstop.markets import ASSETS, TIMEFRAMES


class AssetParams(BaseModel):
    """Per-coin facts: where the price starts, how it moves, how deep its books are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start_price: float = Field(gt=0)
    annual_vol: float = Field(gt=0, le=5)
    price_decimals: int = Field(ge=0, le=10)  # exchange price rounding (Binance-like precision)
    depth_scale: float = Field(gt=0)  # book depth relative to BTC at the same timeframe
    volume_scale: float = Field(gt=0)  # taker flow relative to BTC at the same timeframe
    # Share of seconds quoted wider than calm (2x, a third of them 3x): sets the mean spread (1.1-1.6c)
    # while the median stays at the calm 1c.
    wide_spread_share: float = Field(default=0.05, ge=0, le=1)
    oracle_offset_frac: float = 0.0005  # oracle sits this fraction below the exchange price
    oracle_offset_sd_frac: float = 0.0001  # slow wander of that offset (BTC: ~$10)


# BTC offset 47 +- 10 USD at the default start price (reference §3.3); others 0.05 %.
DEFAULT_ASSETS: dict[str, AssetParams] = {
    "BTC": AssetParams(start_price=90_000.0, annual_vol=0.42, price_decimals=2, depth_scale=1.0, volume_scale=1.0,
                       wide_spread_share=0.07, oracle_offset_frac=47.0 / 90_000.0,
                       oracle_offset_sd_frac=10.0 / 90_000.0),
    "ETH": AssetParams(start_price=3_200.0, annual_vol=0.76, price_decimals=2, depth_scale=0.5, volume_scale=0.5,
                       wide_spread_share=0.12),
    "SOL": AssetParams(start_price=180.0, annual_vol=0.87, price_decimals=3, depth_scale=0.2, volume_scale=0.2,
                       wide_spread_share=0.38),
    "XRP": AssetParams(start_price=2.4, annual_vol=0.80, price_decimals=5, depth_scale=0.2, volume_scale=0.2,
                       wide_spread_share=0.42),
    "DOGE": AssetParams(start_price=0.22, annual_vol=0.92, price_decimals=6, depth_scale=0.02, volume_scale=0.02,
                        wide_spread_share=0.4),
    # BNB 5m trades a few hundred dollars a window (reference §2.4).
    "BNB": AssetParams(start_price=900.0, annual_vol=0.51, price_decimals=2, depth_scale=0.02, volume_scale=0.004,
                       wide_spread_share=0.4),
}


class SimConfig(BaseModel):
    """Everything about the simulated venue except the seed (a constructor argument)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- markets and rules
    assets: tuple[str, ...] = ASSETS
    timeframes: tuple[str, ...] = ("5m", "15m")
    start_time: int = 1793577600  # 2026-11-02T00:00Z, a multiple of 900
    warmup_s: int = Field(default=3600, ge=120)  # price history generated before start_time (TWAP, shocks)
    resolution_rule: Literal["twap", "spot"] = "twap"
    twap_lookback_s: int = Field(default=60, ge=1)
    publish_delay_s: float = Field(default=120.0, ge=0)
    list_ahead_s: int = Field(default=300, ge=0)
    fee_rate: float = Field(default=0.07, ge=0)
    fee_exponent: float = Field(default=1.0, gt=0)
    min_size: float = Field(default=5.0, gt=0)
    # -- order path
    order_latency_s: float = Field(default=0.03, ge=0, le=5)
    taker_delay_s: float = Field(default=0.25, ge=0, le=5)
    # -- underlying
    asset_params: dict[str, AssetParams] = Field(default_factory=lambda: dict(DEFAULT_ASSETS))
    student_t_nu: float = Field(default=4.0, gt=2)
    regime_sd_log: float = Field(default=0.4, ge=0)  # hourly vol multiplier, lognormal
    jump_rate_per_day: float = Field(default=1.0, ge=0)
    jump_sigma60: tuple[float, float] = (5.0, 10.0)  # jump size range in 60 s sigmas
    # -- oracle
    oracle_delay_median_s: float = Field(default=0.85, gt=0)
    oracle_delay_p95_s: float = Field(default=1.3, gt=0)
    oracle_delay_max_s: float = Field(default=3.0, gt=0)
    oracle_offset_halflife_s: float = Field(default=300.0, gt=0)
    # -- market makers and books
    mm_lag_s: float = Field(default=0.3, ge=0, le=5)
    mm_noise_logit: float = Field(default=0.03, ge=0)
    book_bucket_s: float = Field(default=0.05, gt=0)
    spread: float = Field(default=0.01, gt=0)  # calm spread
    spread_t60_add: float = 0.01  # extra spread from T-60
    spread_t30_add: tuple[float, float] = (0.02, 0.04)  # extra spread from T-30 (drawn per window)
    shock_sigmas: tuple[float, float] = (3.0, 6.0)  # 1 s move (in 1 s sigmas) that widens to 2c / 4c
    levels: tuple[int, int] = (5, 10)  # levels per side, drawn per window
    level_step: float = 0.01
    top_size_median: float = Field(default=50.0, gt=0)  # shares at the touch, BTC
    top_size_sd_log: float = Field(default=0.9, ge=0)
    side_depth: float = Field(default=12_500.0, gt=0)  # shares per side (both sides ~25k), BTC 15m mid-window
    depth_5m_factor: float = Field(default=0.5, gt=0)
    depth_close_factor: float = Field(default=0.5, gt=0)  # last 30 s
    loser_thin_above: float = 0.98
    loser_thin_factor: float = Field(default=0.1, ge=0)
    recovery_s: float = Field(default=2.7, gt=0)  # consumed liquidity comes back with this time constant
    # -- taker flow
    flow_rate: dict[str, float] = Field(default_factory=lambda: {"5m": 5.5, "15m": 1.55})  # prints/s, BTC
    print_mean_usd: float = Field(default=55.0, gt=0)
    print_sd_log: float = Field(default=1.0, ge=0)
    informed_share: float = Field(default=0.25, ge=0, le=1)
    informed_horizon_s: float = Field(default=2.0, ge=0)
    close_flow_boost: float = Field(default=2.0, ge=1)  # flow rate multiplier over the last 60 s

    @field_validator("assets")
    @classmethod
    def _known_assets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [a for a in value if a not in ASSETS]
        if unknown or not value:
            raise ValueError(f"assets: unknown {unknown}; choose from {list(ASSETS)}")
        return value

    @field_validator("timeframes")
    @classmethod
    def _known_timeframes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [t for t in value if t not in TIMEFRAMES]
        if unknown or not value:
            raise ValueError(f"timeframes: unknown {unknown}; choose from {list(TIMEFRAMES)}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> "SimConfig":
        missing = [a for a in self.assets if a not in self.asset_params]
        if missing:
            raise ValueError(f"asset_params: no parameters for {missing}; add them or drop those assets")
        missing_tf = [t for t in self.timeframes if t not in self.flow_rate]
        if missing_tf:
            raise ValueError(f"flow_rate: no rate for {missing_tf}")
        return self

    def asset(self, name: str) -> AssetParams:
        return self.asset_params[name]
