"""Reference hygiene: after a swap no object of the old generation survives; a slow decide is cut off."""

from __future__ import annotations

import gc
import sys
import weakref

from typer.testing import CliRunner

from nonstop.cli.main import app
from tests.reload.conftest import make_home, probe, slot, write

SLOTS = [slot("p-btc", "probe", "Probe", "BTC"), slot("p-eth", "probe", "Probe", "ETH")]


def test_no_object_of_the_old_generation_survives_a_swap(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(5)
    old_module = weakref.ref(sys.modules["probe"])  # the live generation is what `import probe` gives
    old_class = weakref.ref(sys.modules["probe"].Probe)
    old_name = sys.modules["probe"].__name__
    assert old_module() is not None and old_class() is not None and old_name in sys.modules
    write(home.strategies / "probe.py", probe("v2"))
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    bot.step(3)
    gc.collect()
    assert old_module() is None and old_class() is None
    assert old_name not in sys.modules and sys.modules["probe"].TAG == "v2"
    assert bot.tags("p-btc")[-1][1] == "v2"


def test_a_rolled_back_generation_leaves_nothing_behind_either(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    write(home.strategies / "probe.py", probe("v2"))
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    bot.step(2)
    v2 = weakref.ref(sys.modules["probe"].Probe)
    result = CliRunner().invoke(app, ["ctl", "--home", str(home.root), "rollback", "probe", "--to", "1"])
    assert result.exit_code == 0, result.output
    bot.until(lambda: bot.generation("probe") == 1, max_steps=3)
    bot.step(2)
    gc.collect()
    assert v2() is None and sys.modules["probe"].TAG == "v1"


LOOPING = probe("loop").replace('        ctx.memory["n"]', '        while ctx.asset == "BTC":  # MARK\n'
                                                         '            pass\n        ctx.memory["n"]')


def test_a_decide_that_overruns_its_budget_is_stopped_and_the_other_slots_decide(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": LOOPING})
    bot = bots(home)
    bot.step(3)
    status = bot.status()
    slots = {s["id"]: s for s in status["slots"]}
    assert slots["p-btc"]["errors"] == 3 and "overran its 50 ms budget" in slots["p-btc"]["last_decision"]
    assert slots["p-eth"]["errors"] == 0
    assert [c for c, _ in bot.tags("p-eth")] == [1, 2, 3]  # ETH decided in each of those cycles
    entry = {s["name"]: s for s in status["strategies"]}["probe"]
    failure = entry["last_failure"]
    assert failure["phase"] == "overrun" and failure["slot"] == "p-btc" and entry["overruns"] == 3
    assert failure["line"] == next(i for i, line in enumerate(LOOPING.splitlines(), 1) if "MARK" in line)
    assert entry["generation"] == 1  # the first generation has nothing to roll back to
