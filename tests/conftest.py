"""Shared fixtures: a fresh home made by the real `nonstop init`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nonstop.home.init import init_home

NONSTOP = [sys.executable, "-m", "nonstop"]


def run_cli(*args: str, timeout: float = 300, check: bool = False, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `nonstop` command line in a subprocess."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([*NONSTOP, *args], capture_output=True, text=True, timeout=timeout, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f"nonstop {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "home"
    init_home(root)
    return root
