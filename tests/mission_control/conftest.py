"""Fixtures: a home the real bot has run in (so status.json is the bot's own), and an app on it."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Iterator

import pytest

warnings.filterwarnings("ignore", message=".*starlette.testclient.*")  # httpx is what the issue asks for
from fastapi.testclient import TestClient  # noqa: E402

from nonstop.home.init import init_home  # noqa: E402
from nonstop.home.paths import Home  # noqa: E402
from nonstop.mission_control import create_app  # noqa: E402
from tests.conftest import run_cli  # noqa: E402

TOKEN = "test-token-0123456789abcdef"


@pytest.fixture(scope="session")
def ran_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home after 40 minutes of sim venue time at max speed: status.json with trades, positions, a P&L curve."""
    root = tmp_path_factory.mktemp("ran") / "home"
    init_home(root)
    run_cli("run", "--home", str(root), "--speed", "max", "--duration", "40m", check=True, timeout=240)
    return root


@pytest.fixture
def home(ran_home: Path, tmp_path: Path) -> Path:
    root = tmp_path / "home"
    shutil.copytree(ran_home, root)
    return root


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Home(home), TOKEN)) as c:
        c.headers["Authorization"] = f"Bearer {TOKEN}"
        yield c
