"""`nonstop sim-exchange` as a process of its own, and where it listens (what benches and tests start).

The command prints one line once it listens (`ready_line`); `launch` starts it on a free port
and reads that line back, so the line's format has one owner.
"""

from __future__ import annotations

import subprocess
import sys

READY = "sim-exchange listening on "


def ready_line(port: int, seed: int, speed: float) -> str:
    return f"{READY}http://127.0.0.1:{port} (seed {seed}, speed {speed:g})"


def launch(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Start `nonstop sim-exchange --port 0 ARGS...`; the process and its base URL once it listens."""
    proc = subprocess.Popen([sys.executable, "-m", "nonstop", "sim-exchange", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if READY not in line:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"sim-exchange did not start: {line!r}")
    return proc, line.split(READY)[1].split()[0]
