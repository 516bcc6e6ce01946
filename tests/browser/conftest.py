"""A real Chromium (Debian's /usr/bin/chromium) driven by Playwright (pip); never `playwright install`.

Missing Chromium or Playwright skips these tests on a developer's machine and FAILS them
under CI (CI=true): `make test` installs Chromium, so in CI a missing one is a broken setup.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = Path(os.environ.get("NONSTOP_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright pip package is missing; install it with `pip install -e '.[test]'`"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing; install Debian's Chromium with `make chromium` (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
