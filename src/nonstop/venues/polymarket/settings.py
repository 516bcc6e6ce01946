"""Where the Polymarket venue connects, and with what: hosts, timings, credentials.

Hosts come from nonstop.toml's `[polymarket]` table, overridden by environment variables
(`NONSTOP_POLYMARKET_<NAME>`, e.g. NONSTOP_POLYMARKET_CLOB_URL). `host = "http://127.0.0.1:8780"`
(or NONSTOP_POLYMARKET_HOST) points every URL at one `nonstop sim-exchange`. Credentials are read
only from the environment or from a file outside any git repository, never from nonstop.toml.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nonstop.errors import UserError

ENV_PREFIX = "NONSTOP_POLYMARKET_"
HOST_KEYS = ("gamma_url", "clob_url", "data_url", "relayer_url", "ws_url", "user_ws_url", "rtds_url")  # SDK hosts


class PolymarketSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = ""  # one base URL for everything (the loopback fake)
    gamma_url: str = ""
    clob_url: str = ""
    data_url: str = ""
    relayer_url: str = ""
    ws_url: str = ""  # CLOB market channel
    user_ws_url: str = ""  # CLOB user channel
    rtds_url: str = ""  # real-time data socket (Chainlink / Binance prices)
    binance_url: str = "wss://stream.binance.com:9443"  # fallback spot trades while RTDS is stale
    spot_stale_s: float = Field(10.0, gt=0)  # wall seconds without an RTDS spot price before falling back
    clock: Literal["wall", "server"] = "wall"  # "server": follow the fake's venue clock (its --speed)
    discovery_every_s: float = Field(5.0, gt=0)
    heartbeat_every_s: float = Field(5.0, gt=0)
    heartbeat_timeout_s: float = Field(10.0, gt=0)  # the venue cancels everything after this
    reconcile_every_s: float = Field(30.0, gt=0)
    taker_delay_s: float = Field(0.25, ge=0)  # paper mode and the order state machine
    http_timeout_s: float = Field(10.0, gt=0)
    max_retries: int = Field(6, ge=0)
    credentials_file: str = ""
    record: str = ""  # also write the market data seen to this file (replay format), e.g. for a later replay
    rate_limits: dict[str, Any] = Field(default_factory=dict)  # read by nonstop.state.ratelimit too

    def hosts(self) -> dict[str, str]:
        """Our host names -> URLs to override; empty values keep the SDK's production hosts."""
        out = {k: getattr(self, k) for k in HOST_KEYS if getattr(self, k)}
        if self.host:
            base = self.host.rstrip("/")
            ws = "ws" + base[4:] if base.startswith("http") else base
            derived = {"gamma_url": base, "clob_url": base, "data_url": base, "relayer_url": base,
                       "ws_url": f"{ws}/ws/market", "user_ws_url": f"{ws}/ws/user", "rtds_url": f"{ws}/rtds"}
            out = {**derived, **out}
        return out

    def binance(self) -> str:
        if self.host and "binance_url" not in self.model_fields_set:
            base = self.host.rstrip("/")
            return ("ws" + base[4:] if base.startswith("http") else base) + "/binance"
        return self.binance_url


def load_settings(table: dict[str, Any], env: dict[str, str] | None = None) -> PolymarketSettings:
    env = dict(os.environ) if env is None else env
    merged = dict(table)
    for name in PolymarketSettings.model_fields:
        value = env.get(ENV_PREFIX + name.upper())
        if value is not None and value != "":
            merged[name] = value
    try:
        return PolymarketSettings.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "polymarket"
        raise UserError(f"[polymarket] {where}: {err['msg']}; fix nonstop.toml or {ENV_PREFIX}{where.upper()}") from None


class Credentials(BaseModel):
    """What a live run needs. API keys are derived by the SDK from the private key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    private_key: str = Field(min_length=1)
    funder: str = ""  # the wallet holding the collateral (proxy / safe / deposit wallet); default: the signer


def load_credentials(settings: PolymarketSettings, env: dict[str, str] | None = None) -> Credentials | None:
    """Credentials from NONSTOP_POLYMARKET_PRIVATE_KEY (+ _FUNDER) or a TOML file outside any repo."""
    env = dict(os.environ) if env is None else env
    key = env.get(ENV_PREFIX + "PRIVATE_KEY", "")
    if key:
        return Credentials(private_key=key, funder=env.get(ENV_PREFIX + "FUNDER", ""))
    path_text = env.get(ENV_PREFIX + "CREDENTIALS_FILE", "") or settings.credentials_file
    if not path_text:
        return None
    path = Path(path_text).expanduser().resolve()
    repo = _enclosing_repo(path)
    if repo is not None:
        raise UserError(f"credentials file {path} is inside the git repository {repo}; move it outside any repository")
    if not path.is_file():
        raise UserError(f"credentials file {path}: no such file; create it with private_key = \"0x...\"")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return Credentials.model_validate(raw)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise UserError(f"credentials file {path}: {first}; it needs private_key = \"0x...\" (and optional funder)") from None


def _enclosing_repo(path: Path) -> Path | None:
    for parent in path.parents:
        if (parent / ".git").exists():
            return parent
    return None
