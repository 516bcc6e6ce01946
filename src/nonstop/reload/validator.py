"""The bot's side of the validator process: jobs go out, results come back, the cycle never waits.

One warm worker (`nonstop.reload.worker`), one job at a time. `poll()` is non-blocking
and is called from the reload step; a job that outlives its hard timeout (a body
holding the GIL, a worker that died) gets a failure result and a fresh worker. The
worker also does the bot's file writes for `.generations/` (`persist`): a write and
rename can cost milliseconds on some disks, and a thread would compete for the GIL.
Writes not yet acknowledged are sent again to a replacement worker.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
import weakref
from collections import deque
from pathlib import Path
from typing import Any

import nonstop
from nonstop.reload.protocol import Failure, FrameBuffer, Job, Persist, Result, encode


class Validator:
    def __init__(self, folder: Path, hard_grace_s: float = 2.0) -> None:
        self.folder = folder
        self.hard_grace_s = hard_grace_s
        self._proc: subprocess.Popen[bytes] | None = None
        self._w_job = -1
        self._r_res = -1
        self._buf = FrameBuffer()
        self._queue: deque[Job] = deque()
        self._current: Job | None = None
        self._sent_at = 0.0
        self._executing = ""
        self._cpu_at_send: float | None = None
        self._next_check = 0.0
        self._outbox = bytearray()
        self._finalizer: weakref.finalize | None = None  # type: ignore[type-arg]
        self._unacked: dict[int, Persist] = {}
        self._retried: set[int] = set()
        self._seq = 0
        self.persist_errors: list[str] = []
        self.spawned = 0
        self.killed = 0

    # -- process ------------------------------------------------------------------

    def start(self) -> None:
        if self._proc is not None:
            return
        r_job, self._w_job = os.pipe()
        self._r_res, w_res = os.pipe()
        env = dict(os.environ)
        src = str(Path(nonstop.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (src, env.get("PYTHONPATH", "")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "nonstop.reload.worker", str(r_job), str(w_res)], pass_fds=(r_job, w_res),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
            cwd=str(self.folder))
        os.close(r_job)
        os.close(w_res)
        # A registry dropped without close() (a test, say) must not leave its worker behind: closing
        # the job pipe is what tells the worker to go.
        self._finalizer = weakref.finalize(self, _release, self._w_job, self._r_res)
        os.set_blocking(self._r_res, False)
        os.set_blocking(self._w_job, False)
        self._buf = FrameBuffer()
        self._outbox = bytearray()
        for msg in self._unacked.values():  # writes a dead worker may not have done
            self._outbox += encode(msg)
        self.spawned += 1

    def _stop(self, kill: bool, grace_s: float = 2.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        if kill:
            proc.kill()
            self.killed += 1
        _release(self._w_job)  # end of jobs: the worker finishes what it has, then leaves
        deadline = time.monotonic() + grace_s
        while proc.poll() is None and time.monotonic() < deadline:
            # Keep reading its answers meanwhile: a worker writing to a closed pipe would die mid-batch.
            if select.select([self._r_res], [], [], 0.05)[0]:
                try:
                    for msg in self._buf.feed(os.read(self._r_res, 1 << 16)):
                        self._on_message(msg)
                except OSError:
                    break
        _release(self._r_res)
        self._w_job = self._r_res = -1
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def close(self) -> None:
        """Finish the queued writes (the worker does them before it sees the pipe close), then stop."""
        self._queue.clear()
        self._current = None
        if self._proc is not None and self._outbox:
            os.set_blocking(self._w_job, True)
            try:
                os.write(self._w_job, bytes(self._outbox))
            except OSError:
                pass
            self._outbox.clear()
        self._stop(kill=False, grace_s=10.0)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- jobs -----------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        """Nothing to send, nothing awaited: poll() has no work."""
        return self._current is None and not self._queue and not self._unacked and not self._outbox

    def persist(self, ops: list[tuple[object, ...]]) -> None:
        self._seq += 1
        msg = Persist(self._seq, tuple(ops))
        self._unacked[msg.seq] = msg
        self.start()
        self._send(msg)

    def _send(self, obj: object) -> None:
        self._outbox += encode(obj)
        self._flush()

    def _flush(self) -> None:
        while self._outbox and self._w_job >= 0:
            try:
                n = os.write(self._w_job, self._outbox)
            except BlockingIOError:  # the pipe is full: the rest goes at the next poll
                return
            except OSError:  # the worker is gone; poll() notices and starts another
                return
            del self._outbox[:n]

    def submit(self, job: Job) -> None:
        self._queue.append(job)
        self._pump()

    def discard_queued(self, keep: set[int]) -> None:
        """Drop queued (not yet started) jobs whose id is not in `keep`: their sources went stale."""
        self._queue = deque(j for j in self._queue if j.id in keep)

    def _pump(self) -> None:
        if self._current is not None or not self._queue:
            return
        self.start()
        job = self._queue.popleft()
        self._current, self._sent_at, self._executing = job, time.monotonic(), ""
        self._cpu_at_send = None  # read at the first check, not here: /proc costs a few system calls
        self._next_check = self._sent_at + 0.05
        self._send(job)

    def poll(self) -> list[Result]:
        """Results that arrived since the last call; never blocks."""
        if self.idle:
            return []
        self._flush()
        out: list[Result] = []
        eof = False
        while True:
            try:
                data = os.read(self._r_res, 1 << 16)
            except BlockingIOError:
                break
            except OSError:
                eof = True
                break
            if not data:
                eof = True
                break
            for msg in self._buf.feed(data):
                out.extend(self._on_message(msg))
        job = self._current
        if job is not None and (eof or self._overdue(job)):
            given_up = self._give_up(job, eof)
            if given_up is not None:
                out.append(given_up)
        elif eof:  # died between jobs: a fresh one takes the writes not yet acknowledged
            self._stop(kill=False)
            self.start()
        self._pump()
        return out

    def _overdue(self, job: Job) -> bool:
        """Past the hard limit: that much CPU time on this job (a loop in C holding the GIL), or, as a
        last resort, ten times that in wall time (a body blocked on something). CPU time, because a
        worker starved on a busy machine is slow, not broken. Checked at most every 50 ms."""
        now = time.monotonic()
        if now < self._next_check:
            return False
        self._next_check = now + 0.1
        limit = job.soft_timeout_s + self.hard_grace_s
        cpu = _cpu_seconds(self._proc.pid) if self._proc else None
        if cpu is None:
            return now - self._sent_at > limit
        if self._cpu_at_send is None:  # the first 50 ms of CPU are not counted: the limit is seconds
            self._cpu_at_send = cpu
        return cpu - self._cpu_at_send > limit or now - self._sent_at > 10 * limit

    def _on_message(self, msg: Any) -> list[Result]:
        if isinstance(msg, Result):
            if self._current is not None and msg.id == self._current.id:
                self._current = None
                return [msg]
            return []
        if isinstance(msg, tuple) and msg and msg[0] == "exec":
            self._executing = msg[2]
        elif isinstance(msg, tuple) and msg and msg[0] == "persisted":
            self._unacked.pop(msg[1], None)
            if msg[2]:
                self.persist_errors.append(msg[2])
        return []

    def _give_up(self, job: Job, eof: bool) -> Result | None:
        if eof and not self._executing and job.id not in self._retried:
            # The worker was gone before it began this job (killed from outside, say): not the
            # module's fault. Once more on a fresh worker.
            self._retried.add(job.id)
            self._stop(kill=False)
            self._current = None
            self._queue.appendleft(job)
            return None
        module = self._executing or (job.roots[0] if job.roots else "")
        path = str(self.folder / f"{module}.py")
        if eof:
            code = self._proc.poll() if self._proc else None
            message = f"the validator process exited (code {code}) while running {module}.py"
        else:
            limit = job.soft_timeout_s + self.hard_grace_s
            message = (f"{module}.py did not finish within {limit:g} s of CPU time ({10 * limit:g} s of wall "
                       f"time): an endless loop holding the GIL, or a body that blocks? The validator process "
                       f"was stopped")
        self._stop(kill=not eof)
        self._current = None
        return Result(job.id, Failure(module, path, 0, message, "timeout"))

    def run(self, job: Job) -> Result:
        """Blocking: submit and wait for this job's result (startup only)."""
        self.submit(job)
        while True:
            for result in self.poll():
                if result.id == job.id:
                    return result
            if self._r_res >= 0:
                select.select([self._r_res], [], [], 0.05)


def _release(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (Linux /proc); None where that is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return None
