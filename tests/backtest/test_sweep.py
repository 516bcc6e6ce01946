"""A 3 x 3 sweep writes 9 reports and a comparison; report.html opens in Chromium without console errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_cli

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def sweep_dir(data_home: Path, sim_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep") / "report"
    proc = run_cli("backtest", "--home", str(data_home), "--data", str(sim_file), "--report", str(out),
                   "--param", "margin=0.0,0.02,0.05", "--param", "late_window_snipe.arm_seconds=30,60,90",
                   "--workers", "2", check=True)
    assert "comparison:" in proc.stdout
    return out


def test_a_3x3_sweep_writes_9_reports_and_the_comparison(sweep_dir: Path) -> None:
    comparison = json.loads((sweep_dir / "comparison.json").read_text())
    assert comparison["runs"] == 9 and len(comparison["rows"]) == 9
    combos = {(r["params"]["margin"], r["params"]["late_window_snipe.arm_seconds"]) for r in comparison["rows"]}
    assert combos == {(m, a) for m in (0.0, 0.02, 0.05) for a in (30, 60, 90)}
    pnls = [r["pnl"] for r in comparison["rows"]]
    assert pnls == sorted(pnls, reverse=True)
    folders = [p for p in sweep_dir.iterdir() if p.is_dir()]
    assert len(folders) == 9
    for row in comparison["rows"]:
        report = json.loads((sweep_dir / row["dir"] / "report.json").read_text())
        assert report["run"]["params"] == row["params"]
        assert report["summary"]["trades"] == row["trades"]
        # the sweep's values reached the engine as control slot_params, per slot of the named module
        overrides = report["run"]["slot_params"]
        assert overrides["snipe-btc-5m"] == {"margin": row["params"]["margin"],
                                             "arm_seconds": row["params"]["late_window_snipe.arm_seconds"]}
        assert overrides["momentum-btc-5m"] == {"margin": row["params"]["margin"]}
        assert (sweep_dir / row["dir"] / "report.html").stat().st_size > 10_000
    html = (sweep_dir / "comparison.html").read_text()
    assert html.count("report.html") == 9
    # a margin does change what the snipe does: the 9 runs are not all the same run
    assert len({(r["trades"], r["pnl"]) for r in comparison["rows"]}) > 1


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is installed by `make test`")
def test_report_html_opens_in_chromium_without_console_errors(sweep_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    row = json.loads((sweep_dir / "comparison.json").read_text())["rows"][0]
    pages = [sweep_dir / row["dir"] / "report.html", sweep_dir / "comparison.html"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            for i, page_path in enumerate(pages):
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                problems: list[str] = []
                page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning")
                        else None)
                page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
                page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url}"))
                page.goto(page_path.as_uri())
                page.wait_for_load_state("load")
                shot = tmp_path / f"page{i}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 20_000
                assert problems == []
                if page_path.name == "report.html":
                    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
                    assert len(widths) == 5 and all(w > 100 for w in widths)
                    assert "Wilson" in page.inner_text("body")
                else:
                    assert page.locator("tbody tr").count() == 9
                page.close()
        finally:
            browser.close()
