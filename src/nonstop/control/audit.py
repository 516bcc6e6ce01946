"""audit.jsonl: one JSON object a line for every control change, append-only.

`{"time", "actor", "old_revision", "new_revision", "diff"}`; `diff` is a list of
`{"path", "old", "new"}` with dotted paths (`sizing.order_usd`, `toggles.assets.BTC`,
`requests.rollback[0]`); a key that did not exist (or no longer does) shows as null.
Lines are appended by the writer while it holds the control lock, so they are in
revision order; a torn last line (a crash mid-append) is skipped by the reader.
"""

from __future__ import annotations

import json
import os
from collections import deque
from datetime import datetime, timezone
from typing import Any

from nonstop.home.paths import Home


def json_diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """The leaves that differ between two JSON values, as {path, old, new}."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[dict[str, Any]] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new:
                out.append({"path": sub, "old": old[key], "new": None})
            elif key not in old:
                out.append({"path": sub, "old": None, "new": new[key]})
            else:
                out.extend(json_diff(old[key], new[key], sub))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(new):
                out.append({"path": sub, "old": old[i], "new": None})
            elif i >= len(old):
                out.append({"path": sub, "old": None, "new": new[i]})
            else:
                out.extend(json_diff(old[i], new[i], sub))
        return out
    if old == new and type(old) is type(new):
        return []
    return [{"path": path or "document", "old": old, "new": new}]


def audit_entry(actor: str, old_revision: int, new_revision: int, diff: list[dict[str, Any]]) -> dict[str, Any]:
    return {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "actor": actor, "old_revision": old_revision, "new_revision": new_revision, "diff": diff}


def append_audit(home: Home, entry: dict[str, Any]) -> None:
    """One write(2) of one line with O_APPEND, then fsync: the line is whole and durable."""
    line = (json.dumps(entry, separators=(",", ":"), ensure_ascii=False, default=str) + "\n").encode("utf-8")
    fd = os.open(home.audit, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
        while written < len(line):  # a short write on a regular file is rare; finish it
            written += os.write(fd, line[written:])
        os.fsync(fd)
    finally:
        os.close(fd)


def read_audit(home: Home, tail: int | None = None) -> list[dict[str, Any]]:
    """The audit entries, oldest first; the last `tail` of them when given. Unreadable lines are skipped."""
    keep: deque[dict[str, Any]] = deque(maxlen=tail if tail is not None and tail >= 0 else None)
    try:
        handle = open(home.audit, "rb")
    except FileNotFoundError:
        return []
    with handle:
        for raw in handle:
            try:
                entry = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                continue
            if isinstance(entry, dict):
                keep.append(entry)
    return list(keep)


def last_audited_revision(home: Home) -> int:
    entries = read_audit(home, tail=1)
    value = entries[-1].get("new_revision") if entries else 0
    return value if isinstance(value, int) else 0
