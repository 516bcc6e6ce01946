"""Atomic file publication: a reader never sees a torn file."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write_text(path: Path, text: str, *, durable: bool = False) -> None:
    """Write to a temp file in the same folder, then rename over `path`.

    `durable` also fsyncs the file and the folder (control.json needs it; status.json,
    rewritten every cycle, does not).
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
    if durable:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
