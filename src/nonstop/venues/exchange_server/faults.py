"""Fault injection for tests: HTTP errors and slow answers, dropped sockets, ignored heartbeats,
failed trades. Driven through `POST /nonstop/faults` so a test in another process can use it.

`rtds="off"` closes and refuses the RTDS socket (the adapter falls back to Binance trade streams).
An HTTP rule matches a method and path; `when="before"` answers `status` without processing the
request (a refused or lost request), `when="after"` processes it and then answers `status` (a lost
answer: the order exists although the client saw an error). `delay_s` delays the answer (a slow
venue); with `status=0` the request is otherwise served normally.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from nonstop.venues.exchange_server.exchange import FakeExchange

_MESSAGES = {429: "Too Many Requests", 500: "order timed out", 502: "Bad Gateway", 503: "Service Unavailable",
             504: "Gateway Timeout", 425: "Too Early: the matching engine is restarting"}


class HttpFault(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    method: str = "*"
    status: int = Field(500, ge=0, le=599)
    count: int = Field(1, ge=1)
    when: Literal["before", "after"] = "before"
    delay_s: float = Field(0.0, ge=0, le=120)
    retry_after: float | None = None


class FaultRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    http: list[HttpFault] = Field(default_factory=list)
    drop_sockets: bool = False  # every socket
    heartbeats: Literal["ok", "ignore"] | None = None
    rtds: Literal["on", "off"] | None = None
    fail_trades: int = Field(0, ge=0)
    clear: bool = False


class Faults:
    def __init__(self) -> None:
        self.rules: list[HttpFault] = []
        self.hits = 0

    def take(self, method: str, path: str) -> HttpFault | None:
        for rule in self.rules:
            if rule.path == path and rule.method in ("*", method):
                rule.count -= 1
                if rule.count <= 0:
                    self.rules.remove(rule)
                self.hits += 1
                return rule
        return None


def _answer(rule: HttpFault) -> Response:
    headers = {"Retry-After": f"{rule.retry_after:g}"} if rule.retry_after is not None else None
    return JSONResponse({"error": _MESSAGES.get(rule.status, "injected fault")}, status_code=rule.status,
                        headers=headers)


def register(app: FastAPI, ex: FakeExchange, faults: Faults) -> None:
    @app.middleware("http")
    async def inject(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/nonstop/"):
            return await call_next(request)
        rule = faults.take(request.method, request.url.path)
        if rule is None:
            return await call_next(request)
        if rule.delay_s:
            await asyncio.sleep(rule.delay_s)
        if rule.status and rule.when == "before":
            return _answer(rule)
        response = await call_next(request)
        return _answer(rule) if rule.status else response

    @app.post("/nonstop/faults")
    async def set_faults(req: FaultRequest) -> dict[str, Any]:
        if req.clear:
            faults.rules.clear()
            ex.heartbeats_ignored = False
            ex.rtds_off = False
            ex.fail_trades = 0
        faults.rules.extend(req.http)
        dropped = ex.hub.drop_all() if req.drop_sockets else 0
        if req.heartbeats is not None:
            ex.heartbeats_ignored = req.heartbeats == "ignore"
        if req.rtds is not None:
            ex.rtds_off = req.rtds == "off"
            if ex.rtds_off:
                dropped += ex.hub.drop("rtds")
        ex.fail_trades += req.fail_trades
        return {"rules": len(faults.rules), "dropped_sockets": dropped, "heartbeats_ignored": ex.heartbeats_ignored,
                "fail_trades": ex.fail_trades}
