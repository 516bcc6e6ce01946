"""The write endpoints: each one a change of control.json through the control writer, audited.

Mission Control never talks to the bot: a write here lands in control.json, which the
bot picks up on its next cycle. `If-Match: <revision>` makes a write conditional
(required for the whole-document PUT); a stale one is 412 with the current revision.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import APIRouter, Body, Header, HTTPException, Path, Request, Response

from nonstop.control.schema import ControlDoc
from nonstop.control.writer import ControlRejected, ControlWriter, StaleRevision, WriteResult
from nonstop.markets import ASSETS
from nonstop.mission_control.auth import actor_of
from nonstop.mission_control.models import (AssetToggle, ModeChange, RollbackBody, SizingChange,
                                            WriteResponse)

router = APIRouter(prefix="/api", tags=["control"])


def parse_if_match(value: str | None) -> int | None:
    """`3`, `"3"` or `W/"3"` -> 3; None when absent; 400 naming the header otherwise."""
    if value is None or not value.strip():
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise HTTPException(400, f"If-Match: {value[:40]!r} is not a revision; send the number "
                                 f"from GET /api/control's ETag, e.g. If-Match: \"3\"")
    return int(text)


def _writer(request: Request) -> ControlWriter:
    return request.app.state.writer


def _respond(result: WriteResult, response: Response, request: Request) -> WriteResponse:
    request.app.state.metrics.write_done(request.url.path, "ok")
    response.headers["ETag"] = f'"{result.new.revision}"'
    return WriteResponse(revision=result.new.revision, control=result.new.model_dump(mode="json"),
                         diff=result.diff)


def check_on_disk(writer: ControlWriter) -> None:
    """409 when control.json itself is unreadable: the request is fine, the file is not."""
    try:
        writer.read()
    except ControlRejected as exc:
        raise HTTPException(409, f"control.json on disk is refused ({exc}); fix the file or run "
                                 f"`nonstop ctl --home {writer.home.root} restore`") from None


def _apply(request: Request, response: Response, if_match: str | None,
           change: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> WriteResponse:
    """One write: `change` through update(), or the writer's resume() when `change` is None."""
    expect = parse_if_match(if_match)
    writer = _writer(request)
    if change is None:
        return _write(request, response, expect,
                      lambda: writer.resume(actor=actor_of(request), expect_revision=expect))
    return _write(request, response, expect,
                  lambda: writer.update(change, actor=actor_of(request), expect_revision=expect))


def _write(request: Request, response: Response, expect: int | None,
           write: Callable[[], WriteResult]) -> WriteResponse:
    """Run a write against a readable control.json; stale is 412, a refused document 422."""
    check_on_disk(_writer(request))
    try:
        result = write()
    except StaleRevision as exc:
        raise _stale(request, expect, exc) from None
    except ControlRejected as exc:
        request.app.state.metrics.write_done(request.url.path, "rejected")
        raise HTTPException(422, str(exc)) from None
    return _respond(result, response, request)


def _stale(request: Request, expect: int | None, exc: StaleRevision) -> HTTPException:
    request.app.state.metrics.write_done(request.url.path, "stale")
    return HTTPException(412, f"If-Match: revision {expect} is stale; control.json is at revision "
                              f"{exc.current}; GET /api/control and retry",
                         headers={"ETag": f'"{exc.current}"'})


IfMatch = Header(None, alias="If-Match", description="the revision this change is based on (ETag)")


@router.put("/control", response_model=WriteResponse, status_code=200)
def put_control(request: Request, response: Response, doc: ControlDoc = Body(...),
                if_match: str | None = IfMatch) -> WriteResponse:
    """Replace the whole document. If-Match is required; revision and updated_* are set by the writer."""
    expect = parse_if_match(if_match)
    if expect is None:
        raise HTTPException(428, "If-Match: required for PUT /api/control; send the revision from "
                                 "GET /api/control's ETag")
    return _write(request, response, expect,
                  lambda: _writer(request).replace(doc.model_dump(mode="json"), actor=actor_of(request),
                                                   expect_revision=expect))


def _mode(mode: str, reason: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "mode": mode, "halt_reason": reason if mode == "HALTED" else ""}
    return change


@router.post("/pause", response_model=WriteResponse)
def pause(request: Request, response: Response, body: ModeChange | None = Body(None),
          if_match: str | None = IfMatch) -> WriteResponse:
    """PAUSED: no new orders, resting orders cancelled, positions ride to resolution."""
    return _apply(request, response, if_match, _mode("PAUSED", ""))


@router.post("/resume", response_model=WriteResponse)
def resume(request: Request, response: Response, body: ModeChange | None = Body(None),
           if_match: str | None = IfMatch) -> WriteResponse:
    """ACTIVE again; also lifts a halt the bot declared itself (the daily-loss breaker)."""
    return _apply(request, response, if_match, None)


@router.post("/halt", response_model=WriteResponse)
def halt(request: Request, response: Response, body: ModeChange | None = Body(None),
         if_match: str | None = IfMatch) -> WriteResponse:
    """The kill switch: cancel everything, refuse every order until resumed."""
    reason = (body.reason if body else "") or "halted from Mission Control"
    return _apply(request, response, if_match, _mode("HALTED", reason))


@router.put("/sizing", response_model=WriteResponse)
def put_sizing(request: Request, response: Response, body: SizingChange = Body(...),
               if_match: str | None = IfMatch) -> WriteResponse:
    given = body.model_dump(exclude_unset=True)
    if not given:
        raise HTTPException(422, "body: no sizing field given; send at least one, e.g. {\"order_usd\": 5}")

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "sizing": {**doc.get("sizing", {}), **given}}
    return _apply(request, response, if_match, change)


@router.put("/assets/{asset}", response_model=WriteResponse)
def put_asset(request: Request, response: Response, body: AssetToggle,
              asset: str = Path(..., description=f"one of {', '.join(ASSETS)}"),
              if_match: str | None = IfMatch) -> WriteResponse:
    name = asset.upper()
    if name not in ASSETS:
        raise HTTPException(404, f"asset {asset!r} is unknown; allowed: {', '.join(ASSETS)}")

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        toggles = doc.get("toggles", {})
        return {**doc, "toggles": {**toggles, "assets": {**toggles.get("assets", {}), name: body.enabled}}}
    return _apply(request, response, if_match, change)


@router.post("/strategies/{name}/rollback", response_model=WriteResponse)
def rollback(request: Request, response: Response, name: str, body: RollbackBody | None = Body(None)) -> WriteResponse:
    """Ask the bot to reinstate an earlier generation of strategy module `name` on its next cycle."""
    status = request.app.state.status.read()
    known = [s.get("name") for s in (status or {}).get("strategies", [])]
    if status is not None and name not in known:
        raise HTTPException(404, f"strategy {name!r} is not loaded by the bot; loaded: {', '.join(map(str, known))}")
    to_generation = body.to_generation if body else None
    return _write(request, response, None,
                  lambda: _writer(request).request_rollback(name, to_generation, actor=actor_of(request)))
