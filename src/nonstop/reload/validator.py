"""The bot's side of the validator process: jobs go out, results come back, the cycle never waits.

One warm worker (`nonstop.reload.worker`), one job at a time. `poll()` is non-blocking
and is called from the reload step; a job that outlives its hard timeout (a body
holding the GIL, a worker that died) gets a failure result and a fresh worker.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import nonstop
from nonstop.reload.protocol import Failure, FrameBuffer, Job, Result, write_frame


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
        os.set_blocking(self._r_res, False)
        self._buf = FrameBuffer()
        self.spawned += 1

    def _stop(self, kill: bool) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        for fd in (self._w_job, self._r_res):
            try:
                os.close(fd)
            except OSError:
                pass
        self._w_job = self._r_res = -1
        if kill:
            proc.kill()
            self.killed += 1
        try:
            proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        self._queue.clear()
        self._current = None
        self._stop(kill=False)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # -- jobs -----------------------------------------------------------------------

    @property
    def idle(self) -> bool:
        return self._current is None and not self._queue

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
        try:
            write_frame(self._w_job, job)
        except OSError:  # the worker is gone; poll() reports it and starts another
            pass

    def poll(self) -> list[Result]:
        """Results that arrived since the last call; never blocks."""
        if self._current is None:
            self._pump()
            return []
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
        if job is not None and (eof or time.monotonic() - self._sent_at > job.soft_timeout_s + self.hard_grace_s):
            out.append(self._give_up(job, eof))
        self._pump()
        return out

    def _on_message(self, msg: Any) -> list[Result]:
        if isinstance(msg, Result):
            if self._current is not None and msg.id == self._current.id:
                self._current = None
                return [msg]
            return []
        if isinstance(msg, tuple) and msg and msg[0] == "exec":
            self._executing = msg[2]
        return []

    def _give_up(self, job: Job, eof: bool) -> Result:
        module = self._executing or (job.roots[0] if job.roots else "")
        path = str(self.folder / f"{module}.py")
        if eof:
            code = self._proc.poll() if self._proc else None
            message = f"the validator process exited (code {code}) while running {module}.py"
        else:
            limit = job.soft_timeout_s + self.hard_grace_s
            message = (f"{module}.py did not finish within {limit:g} s (an endless loop holding the GIL?); "
                       f"the validator process was stopped")
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
