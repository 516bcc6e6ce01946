"""The fake's ASGI app and its server: FastAPI + uvicorn on loopback, one driver task.

Besides Polymarket's paths it serves a few of its own under /nonstop/: the venue clock (so a bot
can follow a sped-up fake), its state (for tests and people), and fault injection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any, AsyncIterator

import uvicorn
from fastapi import FastAPI

from nonstop.venues.exchange_server import faults as faults_mod
from nonstop.venues.exchange_server import rest, sockets
from nonstop.venues.exchange_server.exchange import FakeExchange, Options
from nonstop.venues.exchange_server.keys import KeyStore
from nonstop.venues.sim.config import SimConfig

log = logging.getLogger("nonstop.sim_exchange")
TICK_S = 0.05  # wall seconds between driver steps


def fake_config(start_time: int | None = None, assets: tuple[str, ...] | None = None,
                timeframes: tuple[str, ...] | None = None) -> SimConfig:
    """The simulator as the fake runs it: venue time starts now, orders arrive without added
    latency (the network is real here), and windows are listed a full 15 minutes ahead so the
    current and the next window of every timeframe can be discovered."""
    extra: dict[str, Any] = {}
    if assets:
        extra["assets"] = assets
    if timeframes:
        extra["timeframes"] = timeframes
    return SimConfig(start_time=int(time.time()) if start_time is None else start_time, order_latency_s=0.0,
                     list_ahead_s=900, **extra)


def create_app(ex: FakeExchange) -> FastAPI:
    keys = KeyStore()
    faults = faults_mod.Faults()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(_drive(ex))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    faults_mod.register(app, ex, faults)

    @app.get("/nonstop/clock")
    async def clock() -> dict[str, Any]:
        return {"venue_time": ex.now(), "speed": ex.opts.speed, "wall_time": time.time(),
                "world": f"sim-exchange seed={ex.seed} start={ex.config.start_time}"}

    @app.get("/nonstop/state")
    async def state() -> dict[str, Any]:
        ex.step()
        accounts = {}
        for key, acct in ex.accounts.items():
            mine = [o for o in ex.orders.values() if o.api_key == key]
            accounts[key] = {"collateral": round(acct.collateral, 6), "orders": len(mine),
                             "open_orders": sum(o.is_open for o in mine),
                             "trades": sum(t.api_key == key for t in ex.trades.values()),
                             "heartbeat_expiries": acct.heartbeat_expiries,
                             "tokens": {t: q for t, q in acct.tokens.items() if abs(q) > 1e-9}}
        return {"venue_time": ex.now(), "speed": ex.opts.speed, "seed": ex.seed, "markets": len(ex.markets),
                "listeners": len(ex.hub.listeners), "fault_hits": faults.hits, "accounts": accounts}

    rest.register(app, ex, keys)
    sockets.register(app, ex, keys)
    return app


async def _drive(ex: FakeExchange) -> None:
    while True:
        try:
            ex.step()
        except Exception:  # a bug in one step must not stop the venue; it is logged
            log.exception("sim-exchange step failed")
        await asyncio.sleep(TICK_S)


def serve(port: int, seed: int, options: Options, config: SimConfig, on_ready: Any = None) -> None:
    """Bind 127.0.0.1:port (0: any free port), announce it, serve until interrupted."""
    ex = FakeExchange(seed, config, options)
    ex.step(to=float(config.start_time))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)  # before announcing: early clients wait in the backlog instead of being refused
    server = uvicorn.Server(uvicorn.Config(create_app(ex), log_level="warning", ws="websockets-sansio",
                                           lifespan="on", timeout_graceful_shutdown=1))
    if on_ready is not None:
        on_ready(sock.getsockname()[1])
    server.run(sockets=[sock])
