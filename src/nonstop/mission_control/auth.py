"""The bearer token that guards every /api and /metrics call.

One token per home: taken from NONSTOP_MC_TOKEN when set, else read from
HOME/mission-control.token, else generated there on first start (mode 0600).
No cookies are ever set, so there is nothing for a cross-site request to ride on.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from nonstop.errors import UserError
from nonstop.home.paths import Home

TOKEN_ENV = "NONSTOP_MC_TOKEN"
DEFAULT_ACTOR = "mission-control"
_ACTOR_OK = re.compile(r"^[\w.@+ -]{1,64}$")
_SCHEME = HTTPBearer(auto_error=False, description="the token in HOME/mission-control.token")


def load_or_create_token(home: Home) -> str:
    """The token in force for `home`; creates HOME/mission-control.token (0600) when there is none."""
    from_env = os.environ.get(TOKEN_ENV, "").strip()
    if from_env:
        if len(from_env) < 16:
            raise UserError(f"{TOKEN_ENV}: a token of {len(from_env)} characters is too short; use at least 16")
        return from_env
    path = home.token
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if len(token) < 16:
            raise UserError(f"{path}: the token is shorter than 16 characters; delete the file to get a new one")
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # a token others can read is no secret
        return token
    token = secrets.token_urlsafe(32)
    # O_EXCL + 0600 from the start: the token is never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


class BearerAuth:
    """FastAPI dependency: 401 unless `Authorization: Bearer <token>` matches."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def __call__(self, creds: HTTPAuthorizationCredentials | None = Depends(_SCHEME)) -> None:
        given = creds.credentials if creds else ""
        if not given:
            raise HTTPException(401, "missing bearer token; send `Authorization: Bearer <token>` "
                                     "(the token is in HOME/mission-control.token)",
                                headers={"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode(), self._token):
            raise HTTPException(401, "wrong bearer token; use the one in HOME/mission-control.token",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def actor_of(request: Request) -> str:
    """Who a write is recorded as in audit.jsonl: `mission-control` or `mission-control/<X-Actor>`."""
    name = request.headers.get("x-actor", "").strip()
    if not name:
        return DEFAULT_ACTOR
    if not _ACTOR_OK.match(name):
        raise HTTPException(422, f"X-Actor: {name[:40]!r} is not allowed; use 1-64 letters, digits, "
                                 f"spaces or . @ + - _")
    return f"{DEFAULT_ACTOR}/{name}"
