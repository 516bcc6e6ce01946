"""What the bot and its validator process say to each other: jobs, results, and their framing.

A frame is a 4-byte little-endian length followed by a pickle. Both ends are our own
code (the validator is `python -m nonstop.reload.worker`), so pickle is safe here.
"""

from __future__ import annotations

import os
import pickle
import struct
from dataclasses import dataclass, field
from typing import Any

_HEADER = struct.Struct("<I")


@dataclass(frozen=True)
class Contract:
    """A strategy class the validator must find and construct once per slot's params."""

    module: str
    class_name: str
    params: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Job:
    id: int
    folder: str  # HOME/strategies, for file names in tracebacks
    sources: dict[str, bytes]  # every local module the job may import, by module name
    roots: tuple[str, ...]  # imported in this order; their local imports follow
    report: frozenset[str]  # modules whose compiled code comes back (the ones the bot will execute)
    contracts: tuple[Contract, ...]
    soft_timeout_s: float  # the worker interrupts a module body or constructor after this


@dataclass(frozen=True)
class Failure:
    module: str
    file: str
    line: int
    message: str
    phase: str  # compile | import | timeout | contract | construct | validate | load | migrate | ...

    def as_dict(self, time: float) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "message": self.message, "time": time,
                "phase": self.phase}


@dataclass(frozen=True)
class Result:
    id: int
    failure: Failure | None
    order: tuple[str, ...] = ()  # reported modules, in the order their bodies finished (dependencies first)
    code: dict[str, bytes] = field(default_factory=dict)  # marshal of each reported module's code object
    executed: dict[str, str] = field(default_factory=dict)  # every local module run -> sha256 of its source
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)  # local imports of each module run
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.failure is None


@dataclass(frozen=True)
class Persist:
    """File writes the bot hands to the validator process, so the cycle never waits on a disk.

    ops: ("write", path, bytes) | ("json", path, object) (atomic: temp file + rename) | ("unlink", path).
    The worker answers ("persisted", seq, error-or-"").
    """

    seq: int
    ops: tuple[tuple[Any, ...], ...]


def encode(obj: Any) -> bytes:
    body = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


def write_frame(fd: int, obj: Any) -> None:
    data = memoryview(encode(obj))
    while data:
        n = os.write(fd, data)
        data = data[n:]


def read_frame(fd: int) -> Any | None:
    """Blocking read of one frame; None at end of file."""
    head = _read_exact(fd, _HEADER.size)
    if head is None:
        return None
    (size,) = _HEADER.unpack(head)
    body = _read_exact(fd, size)
    return None if body is None else pickle.loads(body)


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


class FrameBuffer:
    """Accumulates bytes from a non-blocking pipe and yields complete frames."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buf += data
        out = []
        while len(self._buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buf)
            end = _HEADER.size + size
            if len(self._buf) < end:
                break
            out.append(pickle.loads(bytes(self._buf[_HEADER.size:end])))
            del self._buf[:end]
        return out
