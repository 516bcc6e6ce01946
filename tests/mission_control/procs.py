"""Real processes for the Mission Control tests: the bot (`nonstop run`) and `nonstop mission-control`.

Both are started through the real command line; Mission Control listens on a port the OS
picks (--port 0) and the URL it prints is read back from its stdout file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import httpx

NONSTOP = [sys.executable, "-m", "nonstop"]
URL_RE = re.compile(r"Mission Control: (http://[^\s/]+)/#token=(\S+)")


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, every: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; fail naming `what` after `timeout` seconds (a deadline, not a speed test)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]
    out: Path
    err: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        return self.popen.returncode


def spawn(args: list[str], logs: Path, name: str, env: dict[str, str] | None = None) -> Proc:
    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / f"{name}.out", logs / f"{name}.err"
    with open(out, "wb") as o, open(err, "wb") as e:
        popen = subprocess.Popen([*NONSTOP, *args], stdout=o, stderr=e, stdin=subprocess.DEVNULL,
                                 env={**os.environ, **(env or {})})
    return Proc(popen, out, err)


def start_bot(home: Path, logs: Path, speed: str = "10", name: str = "bot") -> Proc:
    """`nonstop run` on the sim; returns once it has written a status.json of its own."""
    bot = spawn(["run", "--home", str(home), "--speed", speed, "--duration", "30d"], logs, name)

    def started() -> bool:
        if bot.popen.poll() is not None:
            raise AssertionError(f"the bot exited {bot.popen.returncode}: {bot.stderr()[-2000:]}")
        doc = read_json(home / "status.json")
        return bool(doc and doc["heartbeat"]["pid"] == bot.pid)
    try:
        wait_for(started, 60, "the bot's first status.json")
    except BaseException:
        bot.stop()
        raise
    return bot


@dataclass
class MissionControl:
    proc: Proc
    base: str
    token: str

    def client(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=10,
                            headers={"Authorization": f"Bearer {token or self.token}"})

    @property
    def url(self) -> str:
        return f"{self.base}/#token={self.token}"


def start_mc(home: Path, logs: Path, name: str = "mc", env: dict[str, str] | None = None,
             extra: list[str] | None = None) -> MissionControl:
    proc = spawn(["mission-control", "--home", str(home), "--port", "0", *(extra or [])], logs, name, env)

    def printed() -> re.Match[str] | None:
        if proc.popen.poll() is not None:
            raise AssertionError(f"mission-control exited {proc.popen.returncode}: {proc.stderr()[-2000:]}")
        return URL_RE.search(proc.stdout())
    try:
        match = wait_for(printed, 60, "mission-control's URL line")
        mc = MissionControl(proc, match.group(1), match.group(2))
        wait_for(lambda: _answers(mc.base), 30, "mission-control to answer /healthz")
    except BaseException:
        proc.stop()
        raise
    return mc


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def listening_inodes() -> set[str]:
    """Socket inodes of every TCP socket in LISTEN state (st 0A) in /proc/net/tcp and tcp6."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A":
                inodes.add(cols[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets process `pid` holds open (/proc/PID/fd/* -> socket:[inode])."""
    out: set[str] = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed while we looked
        if target.startswith("socket:["):
            out.add(target[len("socket:["):-1])
    return out
