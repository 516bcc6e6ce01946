"""(c) A broken edit never goes live: the old generation keeps trading and status.json says what broke."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.reload.conftest import make_home, probe, slot, write

SLOTS = [slot("p-btc", "probe", "Probe", "BTC"), slot("p-eth", "probe", "Probe", "ETH")]


def _line(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


V2 = probe("v2")
VARIANTS = {
    "syntax error": (V2 + "\ndef broken(:  # MARK\n", "compile", "SyntaxError"),
    "import error": (V2.replace("from nonstop.strategy", "import no_such_module_xyz  # MARK\nfrom nonstop.strategy"),
                     "import", "No module named 'no_such_module_xyz'"),
    "exception in module body": (V2 + "\nraise RuntimeError('boom in the body')  # MARK\n", "import",
                                 "RuntimeError: boom in the body"),
    "missing class": (V2.replace("class Probe:", "class Prob:"), "contract", "defines no class 'Probe'"),
    "constructor raising": (V2.replace("self.buy_at = float(", "raise ValueError('bad params')  # MARK\n"
                                       "        self.buy_at = float("), "construct", "ValueError: bad params"),
    "endless loop in the module body": (V2 + "\nwhile True:  # MARK\n    pass\n", "timeout", "endless loop"),
    "truncated write, left so": (V2[: V2.index("        if not ctx.window.fired") + 20], "compile", "SyntaxError"),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_broken_variant_keeps_the_old_generation_trading(tmp_path, bots, variant):
    source, phase, message = VARIANTS[variant]
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.registry.settings.validate_timeout_s = 0.5  # CPU seconds a body may take (default 2): a faster test
    bot.step(5)
    write(home.strategies / "probe.py", source)
    bot.until(lambda: bot.strategies()["probe"]["last_failure"] is not None, max_steps=20000, pace=0.002)
    entry = bot.strategies()["probe"]
    failure = entry["last_failure"]
    assert entry["generation"] == 1 and entry["differs_from_file"] is True
    assert failure["phase"] == phase and message in failure["message"], failure
    assert failure["file"] == str((home.strategies / "probe.py").resolve())
    if "MARK" in source:
        assert failure["line"] == _line(source, "MARK")
    seen = bot.engine.cycle
    bot.step(10)
    for slot_id in ("p-btc", "p-eth"):
        assert [t for c, t in bot.tags(slot_id) if c > seen] == ["v1"] * 10
    assert bot.strategies()["probe"]["last_failure"] == failure  # reported once, not re-validated every cycle


def test_a_body_holding_the_gil_is_killed_and_the_validator_replaced(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.registry.settings.validate_timeout_s = 0.3  # CPU seconds (default 2), for a faster test
    bot.registry.validator.hard_grace_s = 0.3  # the alarm cannot interrupt C code; the kill comes this much later
    first = bot.registry.validator.pid
    write(home.strategies / "probe.py", probe("v2") + "\nTOTAL = sum(range(10 ** 13))  # C loop, GIL held\n")
    bot.until(lambda: bot.strategies()["probe"]["last_failure"] is not None, max_steps=50000, pace=0.002)
    failure = bot.strategies()["probe"]["last_failure"]
    assert failure["phase"] == "timeout" and "validator process was stopped" in failure["message"]
    assert bot.generation("probe") == 1
    # A good edit afterwards is validated by a fresh validator process and goes live.
    write(home.strategies / "probe.py", probe("v3"))
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    assert bot.registry.validator.pid != first
    bot.step(2)
    assert bot.tags("p-btc")[-1][1] == "v3"


def test_decide_raising_is_rolled_back_by_the_engine_after_k_failures(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(5)
    bad = probe("v2").replace('        ctx.memory["n"]', '        1 / 0  # MARK\n        ctx.memory["n"]')
    write(home.strategies / "probe.py", bad)
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    went_live = bot.engine.cycle
    bot.until(lambda: bot.generation("probe") == 1, max_steps=50)
    entry = bot.strategies()["probe"]
    k = bot.engine.config.engine.rollback_after_failures
    failure = entry["last_failure"]
    assert failure["phase"] == "decide" and "ZeroDivisionError" in failure["message"]
    assert failure["line"] == _line(bad, "MARK")
    assert entry["history"][-1]["origin"] == "auto-rollback"
    assert f"after {k} consecutive decide failures" in entry["history"][-1]["note"]
    assert entry["differs_from_file"] is True and entry["pinned"] is True
    errors = [s["errors"] for s in bot.status()["slots"]]
    assert errors == [k, k]  # counted per slot and reported
    assert bot.engine.cycle - went_live <= k + 2  # K failing cycles, then the rollback at the next safe point
    bot.step(5)
    assert [t for _, t in bot.tags("p-btc")[-5:]] == ["v1"] * 5
    # The broken file stays out until the person changes it; a fix goes live as a new generation.
    bot.step(20, pace=0.003)
    assert bot.generation("probe") == 1
    write(home.strategies / "probe.py", probe("v3"))
    bot.until(lambda: bot.generation("probe") == 3, pace=0.002)
    assert bot.strategies()["probe"]["pinned"] is False


def test_a_file_caught_mid_write_never_goes_live(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.registry.scanner.settle_s = 1.0  # room for the writer's pause on a busy machine
    bot.step(5)
    # The first half is a valid module by itself, with another TAG: were it to go live, decisions would say so.
    full = probe("torn") + '\nTAG = "v2"\n'
    cut = full.index('\nTAG = "v2"')
    path = home.strategies / "probe.py"
    with open(path, "w") as handle:
        handle.write(full[:cut])
        handle.flush()
        # The torn file is seen on many consecutive cycles, always with the same hash, for well under
        # settle_s of wall time (the writer's pause must stay shorter than that, on a busy machine too).
        start, seen = time.monotonic(), 0
        while seen < 30 and time.monotonic() - start < 0.4:
            bot.step()
            seen += 1
        torn = bot.strategies()["probe"]
        handle.write(full[cut:])
    assert seen >= 2 and torn["generation"] == 1 and torn["last_failure"] is None
    assert torn["pending"]  # "validating", or "waiting for probe.py to stay unchanged": not live, not refused
    bot.until(lambda: bot.generation("probe") == 2, pace=0.01)
    bot.step(1)
    tags = {t for s in ("p-btc", "p-eth") for _, t in bot.tags(s)}
    assert tags == {"v1", "v2"} and bot.strategies()["probe"]["last_failure"] is None


def test_one_observation_is_not_enough_even_for_an_old_file(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(3)
    write(home.strategies / "probe.py", probe("v2"), age_s=3600)  # e.g. copied with its old mtime kept
    bot.step(1)
    assert bot.generation("probe") == 1
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    live = bot.strategies()["probe"]["history"][-1]
    assert live["cycle_stable"] == live["cycle_seen"] + 1


def test_a_validator_killed_from_outside_is_replaced_and_no_module_is_blamed(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(2)
    victim = bot.registry.validator.pid
    os.kill(victim, signal.SIGKILL)
    time.sleep(0.2)
    write(home.strategies / "probe.py", probe("v2"))
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    assert bot.strategies()["probe"]["last_failure"] is None
    assert bot.registry.validator.pid != victim
