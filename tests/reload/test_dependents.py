"""(f) A helper change reloads the helper and every strategy importing it together, all or nothing."""

from __future__ import annotations

from tests.reload.conftest import make_home, probe, slot, write

UTIL = 'EDGE = "u1"\n\n\ndef label(tag: str) -> str:\n    return f"{tag}-{EDGE}"\n'

# alpha binds the helper's names when its body runs; beta reads the helper module at decide time.
ALPHA = probe("alpha").replace("from nonstop.strategy", "from util import EDGE, label\nfrom nonstop.strategy").replace(
    'Intent.arm(f"{TAG} ', 'Intent.arm(f"{label(TAG)} ')
BETA = probe("beta").replace("from nonstop.strategy", "import util\nfrom nonstop.strategy").replace(
    'Intent.arm(f"{TAG} ', 'Intent.arm(f"{TAG}-{util.EDGE} ')
GAMMA = probe("gamma")

SLOTS = [slot("a", "alpha", "Probe", "BTC"), slot("b", "beta", "Probe", "ETH"), slot("g", "gamma", "Probe", "SOL")]


def home_with_helper(tmp_path):
    return make_home(tmp_path / "h", SLOTS, {"util": UTIL, "alpha": ALPHA, "beta": BETA, "gamma": GAMMA})


def test_a_helper_change_reloads_its_dependents_in_one_step(tmp_path, bots):
    home = home_with_helper(tmp_path)
    bot = bots(home)
    bot.step(3)
    entries = bot.strategies()
    assert entries["util"]["role"] == "helper" and entries["alpha"]["imports"] == ["util"]
    assert bot.tags("a")[-1][1] == "alpha-u1" and bot.tags("b")[-1][1] == "beta-u1"

    write(home.strategies / "util.py", UTIL.replace('"u1"', '"u2"'))
    bot.until(lambda: bot.generation("util") == 2, pace=0.002)
    bot.step(1)
    entries = bot.strategies()
    live = {name: entries[name]["history"][-1] for name in ("util", "alpha", "beta")}
    assert {e["cycle_live"] for e in live.values()} == {live["util"]["cycle_live"]}  # one step
    assert live["alpha"]["origin"] == "dependency" and live["alpha"]["note"] == "with util generation 2"
    assert entries["alpha"]["generation"] == 2 and entries["beta"]["generation"] == 2
    assert entries["gamma"]["generation"] == 1  # does not import util
    swap = live["util"]["cycle_live"]
    for slot_id, name in (("a", "alpha"), ("b", "beta")):
        assert [t for c, t in bot.tags(slot_id) if c == swap - 1] == [f"{name}-u1"]
        assert [t for c, t in bot.tags(slot_id) if c == swap] == [f"{name}-u2"]


def test_a_helper_change_that_breaks_one_dependent_reloads_none(tmp_path, bots):
    home = home_with_helper(tmp_path)
    bot = bots(home)
    bot.step(3)
    # EDGE renamed: beta (reads util.EDGE at decide time) would break at runtime if util went live alone,
    # alpha (imports EDGE by name) breaks at import: the unit is refused as a whole.
    write(home.strategies / "util.py", UTIL.replace("EDGE", "EDGE2"))
    bot.until(lambda: bot.strategies()["util"]["last_failure"] is not None, pace=0.002)
    entries = bot.strategies()
    failure = entries["util"]["last_failure"]
    assert failure["file"].endswith("alpha.py") and failure["line"] == 1 and "ImportError" in failure["message"]
    assert [entries[n]["generation"] for n in ("util", "alpha", "beta", "gamma")] == [1, 1, 1, 1]
    bot.step(5)
    assert bot.tags("a")[-1][1] == "alpha-u1" and bot.tags("b")[-1][1] == "beta-u1"
    assert all(s["errors"] == 0 for s in bot.status()["slots"])


def test_a_strategy_can_start_importing_a_new_helper(tmp_path, bots):
    home = home_with_helper(tmp_path)
    bot = bots(home)
    bot.step(2)
    write(home.strategies / "extra.py", 'SUFFIX = "x"\n')
    write(home.strategies / "gamma.py", GAMMA.replace("from nonstop.strategy", "from extra import SUFFIX\n"
                                                      "from nonstop.strategy").replace('TAG = "gamma"',
                                                                                       'TAG = "gamma" + SUFFIX'))
    bot.until(lambda: bot.generation("gamma") == 2, pace=0.002)
    bot.step(1)
    entries = bot.strategies()
    assert entries["extra"]["generation"] == 1 and entries["gamma"]["imports"] == ["extra"]
    assert bot.tags("g")[-1][1] == "gammax"
