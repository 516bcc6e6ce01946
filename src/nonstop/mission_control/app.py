"""The app factory: routers, the bearer guard, the static dashboard and its security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from nonstop.control.writer import ControlWriter
from nonstop.home.paths import Home
from nonstop.mission_control import api_read, api_write, events, metrics
from nonstop.mission_control.auth import BearerAuth
from nonstop.mission_control.bot_status import StatusSource

STATIC = Path(__file__).parent / "static"
# The dashboard loads only its own files and talks only to its own origin.
_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


def describe(errors: list[Any]) -> str:
    """A validation error as one line: where, what was given, what is allowed."""
    err = errors[0]
    loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
    given = err.get("input")
    shown = repr(given)[:60] if not isinstance(given, (dict, list)) else type(given).__name__
    return f"{loc}: {shown}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}"


def create_app(home: Home, token: str, stopping: Callable[[], bool] = lambda: False) -> FastAPI:
    """Mission Control for `home`. `stopping` tells long-lived streams the server is shutting down."""
    app = FastAPI(title="nonstop Mission Control", version="1",
                  description="Steers a running nonstop bot through control.json; reads its status.json. "
                              "Every /api and /metrics call needs `Authorization: Bearer <token>`.")
    app.state.home = home
    app.state.writer = ControlWriter(home)
    app.state.status = StatusSource(home.status)
    app.state.metrics = metrics.Metrics(app.state.status)
    app.state.stopping = stopping
    guard = [Depends(BearerAuth(token))]
    app.include_router(api_read.router, dependencies=guard)
    app.include_router(api_write.router, dependencies=guard)
    app.include_router(events.router, dependencies=guard)
    app.include_router(metrics.router, dependencies=guard)
    app.include_router(api_read.public)

    @app.exception_handler(RequestValidationError)
    async def _unprocessable(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": describe(list(exc.errors())), "errors": _plain(exc.errors())}, 422)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers.setdefault("Content-Security-Policy", _CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if request.url.path.startswith("/api"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def _plain(errors: Any) -> list[dict[str, Any]]:
    """Validation errors as JSON-safe dicts (pydantic may put exceptions in `ctx`)."""
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
            for e in errors]
