"""Detection: which modules of HOME/strategies changed, and which changes are safe to act on.

Each reload step `stat`s the folder and every module in it (`poll`, in the cycle). Only a
changed (mtime_ns, size, inode) leads to reading and hashing (`observe`, right after the cycle,
in its slack: no tick waits for a file read). A new content is *stable*
(may go live) once the same sha256 was seen on two consecutive observations and
the file has not been written for `settle_s` of wall time. Until then a file read
within RACY_NS of its mtime is re-read at every step even if its stat did not
change, because a second write inside the file system's timestamp granularity can
change the bytes without changing the stat (git's "racily clean" problem). So a
file caught mid-write is never stable: the next observation sees other bytes, or
the settle time has not passed.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

RACY_NS = 20_000_000  # more than a file system timestamp tick (1-10 ms): a write after it moves the mtime
RESERVED = frozenset(sys.stdlib_module_names) | frozenset(sys.builtin_module_names) | {"nonstop"}


@dataclass(slots=True)
class Observed:
    name: str
    path: str
    sig: tuple[int, int, int] = (0, 0, 0)
    sha256: str = ""
    data: bytes = b""
    mtime_ns: int = 0
    stable: bool = False
    missing: bool = False
    first_seen: float = 0.0  # wall time this content was first observed
    first_step: int = 0  # scanner step this content was first observed
    stable_step: int = 0
    clean: bool = False  # read at least RACY_NS after the file's mtime: an unchanged stat means unchanged bytes


class Scanner:
    def __init__(self, folder: Path, settle_s: float = 0.05, wall_ns: Callable[[], int] = time.time_ns) -> None:
        self.folder = folder
        self.settle_ns = int(settle_s * 1e9)
        self._wall_ns = wall_ns
        self.files: dict[str, Observed] = {}
        self._dir_sig: tuple[int, int] | None = None
        self._folder = str(folder)
        self._unsettled: set[str] = set()
        self._dirty: set[str] = set()  # seen changed (or still racy) by the last polls: to read and hash
        self.step = 0

    @property
    def settle_s(self) -> float:
        return self.settle_ns / 1e9

    @settle_s.setter
    def settle_s(self, value: float) -> None:
        self.settle_ns = int(value * 1e9)

    def poll(self, step: int = 0) -> bool:
        """The cycle's look at every module, stats only (`step`: the cycle, for the record). True when a
        content became stable. What changed, or is still racy, waits for `observe`; until it has been
        read, a changed file is not stable, so nothing of it can go live meanwhile."""
        self.step = step
        self._list()  # a new file's first stat differs from its blank signature: it is read like a changed one
        settled = False
        for obs in self.files.values():
            try:
                st = os.stat(obs.path)
            except FileNotFoundError:
                if not obs.missing:
                    self._gone(obs)
                    self._dirty.add(obs.name)
                continue
            sig = (st.st_mtime_ns, st.st_size, st.st_ino)
            if sig == obs.sig:
                if obs.name not in self._unsettled:
                    continue
                if obs.clean:  # the bytes in hand were read well after the last write: still the same
                    settled |= self._settle(obs, self._wall_ns())
                    continue
            else:
                obs.sig, obs.mtime_ns, obs.missing, obs.stable = sig, st.st_mtime_ns, False, False
                self._unsettled.add(obs.name)
            self._dirty.add(obs.name)
        return settled

    def observe(self) -> bool:
        """After the cycle: read and hash what the polls put aside. True when a content changed or settled."""
        if not self._dirty:
            return False
        changed = False
        dirty, self._dirty = self._dirty, set()
        for name in dirty:
            obs = self.files.get(name)
            if obs is not None:
                changed |= obs.missing or self._observe(obs)
        return changed

    def _list(self) -> None:
        """Re-list the folder only when its own stat changed (a file was created, removed or renamed)."""
        try:
            st = os.stat(self._folder)
        except FileNotFoundError:
            return
        sig = (st.st_mtime_ns, st.st_ino)
        if sig == self._dir_sig:
            return
        self._dir_sig = sig
        names = {e.name[:-3] for e in os.scandir(self._folder)
                 if e.name.endswith(".py") and not e.name.startswith(".") and e.name[:-3].isidentifier()
                 and e.name[:-3] not in RESERVED}
        for name in names - self.files.keys():
            self.files[name] = Observed(name, os.path.join(self._folder, f"{name}.py"))

    def _observe(self, obs: Observed) -> bool:
        try:
            data = _read(obs.path, obs.sig[1])
        except FileNotFoundError:
            self._gone(obs)
            return True
        digest = hashlib.sha256(data).hexdigest()
        now = self._wall_ns()
        obs.clean = now - obs.mtime_ns >= RACY_NS
        if digest != obs.sha256:
            obs.sha256, obs.data, obs.stable = digest, data, False
            obs.first_seen, obs.first_step, obs.stable_step = now / 1e9, self.step, 0
            self._unsettled.add(obs.name)
            return True
        return self._settle(obs, now)

    def _settle(self, obs: Observed, now: int) -> bool:
        """Seen again with the same hash: stable once no write happened for settle_s."""
        quiet_since = obs.mtime_ns if obs.mtime_ns <= now + 1_000_000_000 else int(obs.first_seen * 1e9)
        if obs.name in self._unsettled and now - quiet_since >= self.settle_ns:
            self._unsettled.discard(obs.name)
            obs.stable, obs.stable_step = True, self.step
            return True
        return False

    def _gone(self, obs: Observed) -> None:
        # Forget the content: when the file comes back, even with the same bytes, it settles afresh.
        obs.missing, obs.stable, obs.sha256, obs.data, obs.sig = True, False, "", b"", (0, 0, 0)
        self._unsettled.discard(obs.name)

    def settle_now(self) -> None:
        """At startup: wait (blocking) until every file is stable, re-reading as needed."""
        deadline = time.monotonic() + 10.0
        self.poll()
        self.observe()
        while self._unsettled and time.monotonic() < deadline:
            time.sleep(max(self.settle_s / 2, 0.005))
            self.poll()
            self.observe()


def _read(path: str, size: int) -> bytes:
    """The whole file with three system calls (open() would add fstat, ioctl and lseek)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, size + 1)
        if len(data) <= size:
            return data  # the usual case: all of it in one read
        chunks = [data]  # it grew since the stat: read on to the end
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
