"""`nonstop ctl` through the real command line (subprocesses)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from nonstop.control.writer import read_audit
from nonstop.home.paths import Home
from tests.conftest import NONSTOP, run_cli


def ctl(home: Path, *args: str, actor: str = "tester") -> tuple[int, str, str]:
    proc = run_cli("ctl", "--home", str(home), "--actor", actor, *args, timeout=60)
    return proc.returncode, proc.stdout, proc.stderr


def doc(home: Path) -> dict:
    return json.loads((home / "control.json").read_text())


MISSING = object()


def get(node: object, path: str) -> object:
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node


def _replay(start: dict, entries: list[dict]) -> dict:
    out = json.loads(json.dumps(start))
    for entry in entries:
        for d in entry["diff"]:
            *parents, leaf = d["path"].split(".")
            node = out
            for part in parents:
                node = node.setdefault(part, {})
            if d["new"] is None:
                node.pop(leaf, None)
            else:
                node[leaf] = d["new"]
    return out


def test_each_command_prints_old_new_and_revision(home: Path) -> None:
    doc_at_start = doc(home)
    script = [
        (["pause"], "mode", "PAUSED"),
        (["reduce-only"], "mode", "REDUCE_ONLY"),
        (["halt", "--reason", "drill"], "mode", "HALTED"),
        (["resume"], "mode", "ACTIVE"),
        (["size", "--order-usd", "25"], "sizing.order_usd", 25.0),
        (["size", "--order-usd", "30", "--asset", "BTC"], "sizing.order_usd_per_asset.BTC", 30.0),
        (["max-exposure", "--window", "50"], "sizing.max_exposure_window_usd", 50.0),
        (["max-exposure", "--per-asset", "300"], "sizing.max_exposure_asset_default_usd", 300.0),
        (["max-exposure", "--per-asset", "200", "--asset", "ETH"], "sizing.max_exposure_asset_usd.ETH", 200.0),
        (["max-exposure", "--total", "900"], "sizing.max_exposure_total_usd", 900.0),
        (["max-exposure", "--daily-loss", "40"], "sizing.max_daily_loss_usd", 40.0),
        (["asset", "BTC", "off"], "toggles.assets.BTC", False),
        (["timeframe", "15m", "off"], "toggles.timeframes.15m", False),
        (["slot", "snipe-eth-5m", "off"], "toggles.slots.snipe-eth-5m", False),
        (["set", "slot_params.snipe-btc-5m.margin=0.05"], "slot_params.snipe-btc-5m.margin", 0.05),
        (["unset", "sizing.order_usd_per_asset.BTC"], "sizing.order_usd_per_asset.BTC", None),
    ]
    # One process runs the whole script through `batch` (the same command group, each line its own
    # edit), then each command's output and effect is checked; refusals below use one process each.
    lines = "\n".join(shlex.join(args) for args, _, _ in script)
    proc = subprocess.run([*NONSTOP, "ctl", "--home", str(home), "--actor", "tester", "batch", "-"], input=lines,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    outputs = re.split(r"(?<=\(by tester\)\n)", proc.stdout)
    audit = read_audit(Home(home))
    for revision, ((args, path, value), out, entry) in enumerate(zip(script, outputs, audit), start=2):
        assert out.rstrip().endswith(f"revision {revision - 1} → {revision} (by tester)"), (args, out)
        changed = [line.split(": ")[0].strip() for line in out.splitlines() if line.startswith("  ")]
        assert any(path.startswith(c) for c in changed) and " → " in out, out
        assert any(d["path"] == c for d in entry["diff"] for c in changed)
        after = _replay(doc_at_start, audit[:revision - 1])
        assert get(after, path) == (MISSING if value is None else value), args
    assert doc(home)["revision"] == len(script) + 1
    final, replayed = doc(home), _replay(doc_at_start, audit)
    for key in ("revision", "updated_at", "updated_by"):
        final.pop(key), replayed.pop(key)
    assert replayed == final  # the audit's diffs are the whole story
    entries = read_audit(Home(home))
    assert len(entries) == len(script) and all(e["actor"] == "tester" for e in entries)
    assert doc(home)["halt_reason"] == "" and doc(home)["requests"]["resume"] == 1


def test_rollback_show_and_audit(home: Path) -> None:
    code, out, _ = ctl(home, "rollback", "momentum", "--to", "1", actor="ops")
    assert code == 0 and "requests.rollback[0]" in out
    assert doc(home)["requests"]["rollback"][0]["strategy"] == "momentum"
    code, out, _ = ctl(home, "show")
    assert code == 0 and '"revision": 2' in out and "bot: no status.json yet" in out
    code, out, _ = ctl(home, "show", "--json")
    assert json.loads(out)["revision"] == 2
    ctl(home, "pause")
    code, out, _ = ctl(home, "audit", "--tail", "1")
    assert code == 0 and out.count("\n") == 1 and "r2 → r3" in out and 'mode: "ACTIVE" → "PAUSED"' in out
    code, out, _ = ctl(home, "audit", "--json")
    assert [json.loads(line)["actor"] for line in out.splitlines()] == ["ops", "tester"]


@pytest.mark.parametrize("args, field, value, allowed", [
    (["size", "--order-usd", "-5"], "sizing.order_usd", "-5.0", "a number > 0 and <= 100000"),
    (["size", "--order-usd", "5", "--asset", "LTC"], "sizing.order_usd_per_asset", 'key "LTC"', "BTC, ETH"),
    (["asset", "ADA", "off"], "toggles.assets", 'key "ADA"', "BTC, ETH, SOL, XRP, DOGE, BNB"),
    (["asset", "BTC", "maybe"], "toggles.assets.BTC", '"maybe"', "on or off"),
    (["timeframe", "1h", "off"], "toggles.timeframes", 'key "1h"', "5m, 15m"),
    (["slot", "nope", "off"], "toggles.slots", 'key "nope"', "snipe-btc-5m"),
    (["set", "mode=STOP"], "mode", '"STOP"', "ACTIVE, PAUSED, REDUCE_ONLY, HALTED"),
    (["set", "sizing.max_daily_loss_usd=0"], "sizing.max_daily_loss_usd", "0", "a number > 0"),
    (["set", "sizing.order_usd=lots"], "sizing.order_usd", '"lots"', "a number > 0"),
    (["set", "sizing.speed=3"], "sizing.speed", "3", "order_usd"),
    (["set", "revision=9"], "revision", "9", "any other field"),
    (["set", "oops"], "KEY=VALUE", '"oops"', "KEY=VALUE"),
    (["max-exposure", "--window", "1e12"], "sizing.max_exposure_window_usd", "1000000000000.0", "<= 100000000"),
    (["rollback", "nosuch"], "requests.rollback[0].strategy", '"nosuch"', "late_window_snipe, momentum"),
    (["unset", "sizing.nothing"], "sizing.nothing", "(absent)", "a key present"),
])
def test_refusals_are_one_line_naming_field_value_and_allowed(home: Path, args: list[str], field: str, value: str,
                                                              allowed: str) -> None:
    before = (home / "control.json").read_bytes()
    code, out, err = ctl(home, *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"error: {field}: {value}: ") and "; allowed: " in err and allowed in err, err
    assert (home / "control.json").read_bytes() == before and not (home / "audit.jsonl").exists()


def test_wait_without_a_bot_says_it_is_not_running(home: Path) -> None:
    code, out, err = ctl(home, "--wait", "--timeout", "0.3", "pause")
    assert code == 1 and "revision 1 → 2" in out
    assert "the bot is not running" in err and "revision 2 is written" in err
    (home / "status.json").write_text(json.dumps({"control": {"applied_revision": 1},
                                                  "heartbeat": {"pid": 999_999_999, "wall": 0, "period_s": 1}}))
    code, _, err = ctl(home, "--wait", "resume")
    assert code == 1 and "pid 999999999 from status.json is gone" in err


def test_missing_file_points_at_restore(home: Path) -> None:
    (home / "control.json").unlink()
    code, _, err = ctl(home, "pause")
    assert code == 2 and "control.json" in err and "missing" in err and "restore" in err
    code, out, _ = ctl(home, "restore")
    assert code == 0 and "revision 1" in out and doc(home)["mode"] == "PAUSED"


def test_batch_runs_each_line_as_its_own_revision(home: Path, tmp_path: Path) -> None:
    script = tmp_path / "edits.ctl"
    script.write_text("# a comment\npause\n\nsize --order-usd 12\nresume\nset sizing.order_usd=oops\npause\n")
    code, out, err = ctl(home, "batch", str(script))
    assert code == 2 and "edits.ctl:6: stopped after 3 edits" in err and "sizing.order_usd" in err
    assert doc(home)["revision"] == 4 and doc(home)["mode"] == "ACTIVE"
