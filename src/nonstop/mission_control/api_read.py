"""The read endpoints: status.json, control.json, audit.jsonl, trades, health and metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from nonstop.control.schema import ControlDoc
from nonstop.errors import UserError
from nonstop.control.writer import read_audit
from nonstop.mission_control.api_write import check_on_disk
from nonstop.mission_control.models import HealthResponse, TradesResponse
from nonstop.mission_control.trades import read_trades
from nonstop.status.model import StatusDoc

router = APIRouter(prefix="/api", tags=["read"])
public = APIRouter(tags=["health"])


@router.get("/status", responses={200: {"model": StatusDoc}, 503: {"description": "no status.json yet"}})
def get_status(request: Request) -> JSONResponse:
    """status.json as the bot last wrote it (the bot's heartbeat age is in /healthz)."""
    doc = request.app.state.status.read()
    if doc is None:
        home = request.app.state.home
        raise HTTPException(503, f"{home.status}: no status yet; start the bot with `nonstop run --home {home.root}`")
    return JSONResponse(doc)


@router.get("/control", response_model=ControlDoc)
def get_control(request: Request, response: Response) -> ControlDoc:
    """control.json; its revision is also the ETag to send back as If-Match."""
    writer = request.app.state.writer
    check_on_disk(writer)
    doc = writer.read()
    response.headers["ETag"] = f'"{doc.revision}"'
    return doc


@router.get("/audit")
def get_audit(request: Request, limit: int = Query(50, ge=1, le=1000)) -> list[dict[str, Any]]:
    """The last `limit` lines of audit.jsonl, oldest first: who changed what, when, old -> new."""
    return read_audit(request.app.state.home, tail=limit)


@router.get("/trades", response_model=TradesResponse)
def get_trades(request: Request, limit: int = Query(50, ge=1, le=1000)) -> TradesResponse:
    """Closed trades, newest first: from the journal when there is one, else status.json's recent trades."""
    try:
        source, trades = read_trades(request.app.state.home, request.app.state.status.read(), limit)
    except UserError as exc:  # an unreadable journal is the bot's to fix; say so in one line
        raise HTTPException(503, str(exc)) from None
    return TradesResponse(source=source, trades=trades)


@public.get("/healthz", response_model=HealthResponse)
def healthz(request: Request) -> HealthResponse:
    """Mission Control is up (this answered) and how old the bot's heartbeat is. No token needed."""
    health = request.app.state.status.health()
    return HealthResponse(server_time=time.time(), **health.as_dict())
