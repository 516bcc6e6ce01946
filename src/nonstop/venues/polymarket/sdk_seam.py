"""The only module that reaches into polymarket-client's internals. Keep it small.

polymarket-client (pinned in pyproject) ships one public environment, PRODUCTION. To point it at
the loopback fake (`nonstop sim-exchange`) we rebuild that environment with other hosts through
`polymarket._internal.environment`; and to learn that a stream lost its socket (so the adapter can
resync books and orders over REST after the gap) we wrap the stream manager's connection-lost
callback. Both are internal seams of the SDK: `tests/polymarket/test_sdk_seam.py` fails loudly
when a new SDK version moves them. Nothing else in nonstop imports `polymarket._internal`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import polymarket
from polymarket._internal import environment as _env  # internal seam (1): environment config
from polymarket.environments import PRODUCTION, Environment

SDK_VERSION = "0.14.0"  # the version this seam was written and tested against (pyproject pins it)

# Host fields of the SDK's environment config that nonstop overrides (our name -> SDK field).
HOST_FIELDS: dict[str, str] = {
    "clob_url": "clob_url",
    "gamma_url": "gamma_url",
    "data_url": "data_url",
    "relayer_url": "relayer_url",
    "ws_url": "clob_market_ws_url",
    "user_ws_url": "clob_user_ws_url",
    "rtds_url": "rtds_ws_url",
}


def sdk_version() -> str:
    return str(getattr(polymarket, "__version__", "unknown"))


def production_hosts() -> dict[str, str]:
    """Our host names -> the production URLs the SDK ships with."""
    config = _env.get_environment_config(PRODUCTION)
    return {ours: getattr(config, field) for ours, field in HOST_FIELDS.items()}


def build_environment(hosts: dict[str, str]) -> Environment:
    """PRODUCTION with some hosts replaced (e.g. every URL pointing at the loopback fake)."""
    unknown = set(hosts) - set(HOST_FIELDS)
    if unknown:
        raise ValueError(f"unknown host setting(s) {sorted(unknown)}; use {sorted(HOST_FIELDS)}")
    config = _env.get_environment_config(PRODUCTION)
    changes: dict[str, Any] = {HOST_FIELDS[k]: v for k, v in hosts.items() if v}
    if not changes:
        return PRODUCTION
    return _env.with_environment_config(PRODUCTION, config=dataclasses.replace(config, **changes))


def environment_hosts(environment: Environment) -> dict[str, str]:
    config = _env.get_environment_config(environment)
    return {ours: getattr(config, field) for ours, field in HOST_FIELDS.items()}


# -- internal seam (2): stream connection loss ---------------------------------------------

_MANAGER_GETTERS = {"market": "_get_market_manager", "user": "_get_user_manager", "rtds": "_get_rtds_manager"}
_LOST_CALLBACK = "_on_socket_connection_lost"


def watch_stream_loss(client: Any, stream: str, on_lost: Callable[[], None]) -> Any:
    """Call `on_lost()` (on the client's event loop) each time `stream`'s socket is lost.

    The SDK reconnects and resubscribes by itself but does not tell the caller, so a gap in the
    book deltas or the user channel would go unnoticed. Wrapping the manager's connection-lost
    callback is the narrowest hook it offers. Returns the manager (it has `is_open`).
    """
    manager = getattr(client, _MANAGER_GETTERS[stream])()
    original = getattr(manager, _LOST_CALLBACK)

    def lost(code: int, reason: str) -> None:
        try:
            on_lost()
        finally:
            original(code, reason)

    setattr(manager, _LOST_CALLBACK, lost)
    return manager


def stream_is_open(manager: Any) -> bool:
    return bool(manager.is_open)
