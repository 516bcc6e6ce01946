"""GET /api/events: Server-Sent Events. Pushes status, control and audit as they change, health each second.

The files are the source of truth: each stream polls their stat signatures (cheap), and
reads a file only when it changed. Status pushes are capped at STATUS_MAX_HZ per stream so
a bot at high speed cannot flood a browser.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from nonstop.control.writer import ControlRejected, read_audit

router = APIRouter(prefix="/api", tags=["events"])

TICK_S = 0.1
STATUS_MAX_HZ = 5.0
HEALTH_EVERY_S = 1.0
AUDIT_TAIL = 30


def sse(event: str, data: Any) -> bytes:
    """One SSE message; JSON is single-line, so one `data:` line suffices."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n".encode()


def _sig(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


async def stream(request: Request) -> AsyncIterator[bytes]:
    state = request.app.state
    home = state.home
    sent_status = -1
    control_sig: tuple[int, int, int] | None = (-1, -1, -1)  # never a real signature: the first pass sends
    audit_sig: tuple[int, int, int] | None = (-1, -1, -1)
    last_status_at, last_health_at, last_health = 0.0, 0.0, ""
    yield b"retry: 2000\n\n"
    while not state.stopping() and not await request.is_disconnected():
        now = time.monotonic()
        if now - last_status_at >= 1.0 / STATUS_MAX_HZ:
            doc = state.status.read()
            if doc is not None and state.status.version != sent_status:
                sent_status, last_status_at = state.status.version, now
                yield sse("status", doc)
        sig = _sig(home.control)
        if sig != control_sig:
            control_sig = sig
            try:
                yield sse("control", state.writer.read().model_dump(mode="json"))
            except ControlRejected as exc:  # a person's bad edit: the page says so, the bot keeps the last good
                yield sse("control", {"error": str(exc)})
        sig = _sig(home.audit)
        if sig != audit_sig:
            audit_sig = sig
            yield sse("audit", read_audit(home, tail=AUDIT_TAIL) if sig else [])
        health = state.status.health()
        if health.bot != last_health or now - last_health_at >= HEALTH_EVERY_S:
            last_health, last_health_at = health.bot, now
            yield sse("health", {**health.as_dict(), "server_time": time.time()})
        await asyncio.sleep(TICK_S)


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "events: status, control, audit, health"}})
async def events(request: Request) -> StreamingResponse:
    """Server-Sent Events. Send the bearer token in the Authorization header (fetch + ReadableStream)."""
    return StreamingResponse(stream(request), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
