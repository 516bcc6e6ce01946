"""Fails loudly when a new polymarket-client moves the internals nonstop relies on (sdk_seam.py)."""

from __future__ import annotations

import functools
import inspect

import polymarket
from polymarket import AsyncPublicClient, AsyncSecureClient

from nonstop.venues.polymarket import sdk_seam


def test_the_pinned_sdk_version_is_the_one_installed() -> None:
    assert sdk_seam.sdk_version() == sdk_seam.SDK_VERSION, (
        f"polymarket-client {sdk_seam.sdk_version()} is installed but sdk_seam.py was written for "
        f"{sdk_seam.SDK_VERSION}: re-check the seam below, then update SDK_VERSION and the pin in pyproject.toml")


def test_every_host_can_be_pointed_at_loopback() -> None:
    hosts = {name: f"http://127.0.0.1:9/{name}" for name in sdk_seam.HOST_FIELDS}
    env = sdk_seam.build_environment(hosts)
    assert sdk_seam.environment_hosts(env) == hosts
    assert env.name == "production"  # same chain, contracts and wallet derivation; only hosts differ
    # PRODUCTION itself is untouched
    assert sdk_seam.production_hosts()["clob_url"] == "https://clob.polymarket.com"


def test_clients_read_their_hosts_from_the_environment() -> None:
    env = sdk_seam.build_environment({"clob_url": "http://127.0.0.1:9", "ws_url": "ws://127.0.0.1:9/ws/market"})
    client = AsyncPublicClient(env)
    assert sdk_seam.environment_hosts(client.environment)["clob_url"] == "http://127.0.0.1:9"
    create = inspect.signature(AsyncSecureClient.create).parameters
    assert {"private_key", "wallet", "environment"} <= set(create), "AsyncSecureClient.create changed"


def test_stream_loss_hook_exists_on_every_stream_manager() -> None:
    env = sdk_seam.build_environment({"ws_url": "ws://127.0.0.1:9/ws/market", "rtds_url": "ws://127.0.0.1:9/rtds"})
    client = AsyncPublicClient(env)
    calls: list[str] = []
    for stream in ("market", "rtds"):
        manager = sdk_seam.watch_stream_loss(client, stream, functools.partial(calls.append, stream))
        assert hasattr(manager, "is_open") and not sdk_seam.stream_is_open(manager)
        getattr(manager, sdk_seam._LOST_CALLBACK)(1006, "test")
    assert calls == ["market", "rtds"]
    assert hasattr(AsyncSecureClient, sdk_seam._MANAGER_GETTERS["user"]), "the user stream manager moved"
    assert polymarket.__version__
