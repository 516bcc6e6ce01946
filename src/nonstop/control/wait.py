"""Wait until the bot says (in status.json) that it applied a control revision."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from nonstop.home.paths import Home
from nonstop.status.writer import read_status


@dataclass(frozen=True)
class WaitOutcome:
    ok: bool
    message: str


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return True  # cannot tell: let the heartbeat decide
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_applied(home: Home, revision: int, timeout_s: float, *, poll_s: float = 0.1,
                 sleep: Callable[[float], None] = time.sleep) -> WaitOutcome:
    deadline = time.monotonic() + timeout_s
    status: dict[str, Any] | None = None
    while True:
        status = read_status(home.status)
        if status is not None:
            ctl = status.get("control") or {}
            applied = ctl.get("applied_revision", 0)
            if isinstance(applied, int) and applied >= revision:
                mode = f", mode {ctl.get('mode')}" + (f" ({ctl['halt_reason']})" if ctl.get("halt_reason") else "")
                return WaitOutcome(True, f"applied: the bot runs revision {applied}{mode}")
            refused = ctl.get("refused") or {}
            if refused.get("revision") == revision:
                return WaitOutcome(False, f"the bot refused revision {revision}: {refused.get('reason')}")
            pid = (status.get("heartbeat") or {}).get("pid")
            if not _alive(pid):
                return WaitOutcome(False, f"the bot is not running (pid {pid} from status.json is gone); "
                                          f"revision {revision} is written and applies when it starts")
        if time.monotonic() >= deadline:
            return WaitOutcome(False, _timeout_message(status, revision, timeout_s))
        sleep(poll_s)


def _timeout_message(status: dict[str, Any] | None, revision: int, timeout_s: float) -> str:
    if status is None:
        return (f"no status.json after {timeout_s:g}s: the bot is not running (start it with `nonstop run`); "
                f"revision {revision} is written and applies when it starts")
    hb = status.get("heartbeat") or {}
    age = time.time() - float(hb.get("wall", 0) or 0)
    applied = (status.get("control") or {}).get("applied_revision")
    if age > max(5.0, 5 * float(hb.get("period_s", 1.0) or 1.0)):
        return (f"the bot is not running (last heartbeat {age:.0f}s ago, at revision {applied}); "
                f"revision {revision} is written and applies when it starts")
    return f"timed out after {timeout_s:g}s: the bot is running but still shows revision {applied}"
