"""Safe point: a swap waits while a slot of the module has an order in flight, then lands the cycle after."""

from __future__ import annotations

from typer.testing import CliRunner

from nonstop.cli.main import app
from tests.reload.conftest import make_home, probe, slot, write

# p-btc rests a GTC bid far below the market at its first cycle: an order in flight for minutes.
RESTING = probe("v1").replace(
    "Intent.buy(Outcome.UP, 0.99, size_usd=6, reason=TAG)",
    "Intent.buy(Outcome.UP, 0.02, size_usd=6, order_type=OrderType.GTC, reason=TAG)").replace(
    "import Context, Intent, Outcome", "import Context, Intent, OrderType, Outcome")
SLOTS = [slot("p-btc", "probe", "Probe", "BTC", params="{ buy_at = 100000 }"),
         slot("p-eth", "probe", "Probe", "ETH", params="{ buy_at = 0 }")]


def test_swap_is_deferred_while_an_order_is_in_flight(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": RESTING})
    bot = bots(home)
    bot.step(3)
    assert bot.engine.positions.busy_slots() == {"p-btc"}
    write(home.strategies / "probe.py", RESTING.replace('TAG = "v1"', 'TAG = "v2"'))
    bot.until(lambda: any("deferred" in p for p in bot.strategies()["probe"]["pending"]), pace=0.002)
    assert bot.strategies()["probe"]["pending"] == ["deferred: order in flight on slot p-btc"]
    bot.step(20, pace=0.002)
    assert bot.generation("probe") == 1 and {t for _, t in bot.tags("p-eth")} == {"v1"}

    result = CliRunner().invoke(app, ["ctl", "--home", str(home.root), "pause"])  # cancels resting orders
    assert result.exit_code == 0, result.output
    settled = bot.until(lambda: not bot.engine.positions.busy_slots(), max_steps=50, pace=0.0)
    assert settled > 0 and bot.generation("probe") == 1  # never while the order was in flight
    cleared = bot.engine.cycle
    bot.step(1)
    entry = bot.strategies()["probe"]
    assert entry["generation"] == 2 and entry["history"][-1]["cycle_live"] == cleared + 1
    assert bot.tags("p-btc")[-1] == (cleared + 1, "v2") and bot.tags("p-eth")[-1] == (cleared + 1, "v2")


# A body that says where it ran: the call stack of the bot process when its module body executed.
WHERE = probe("v1", extra="\nimport inspect\nRAN_IN = [f.frame.f_code.co_qualname for f in inspect.stack()]\n")


def test_the_swap_cycle_only_rebinds_module_bodies_ran_between_cycles(tmp_path, bots):
    """A new generation's body runs after a cycle (Engine.between_cycles), never inside one (Engine.step)."""
    home = make_home(tmp_path / "h", SLOTS[1:], {"probe": WHERE})
    bot = bots(home)
    bot.step(2)
    write(home.strategies / "probe.py", WHERE.replace('TAG = "v1"', 'TAG = "v2"'))
    bot.until(lambda: bot.generation("probe") == 2)
    ran_in = bot.engine.registry.live["probe"].module.RAN_IN
    assert "Engine.between_cycles" in ran_in and "Engine.step" not in ran_in
    assert bot.tags("p-eth")[-1][1] == "v2"


def test_the_cycle_only_stats_a_changed_file_it_is_read_between_cycles(tmp_path, bots):
    """Detection in the cycle is a stat; reading, hashing and planning the new content come after it."""
    home = make_home(tmp_path / "h", SLOTS[1:], {"probe": probe("v1")})
    bot = bots(home)
    bot.step(2)
    write(home.strategies / "probe.py", probe("v2"))
    engine = bot.engine
    for _ in range(3):
        engine.step()  # no between_cycles: the cycles see the stat change, and nothing more
        engine.clock.wait_until(engine.clock.now() + engine.period)
    assert bot.strategies()["probe"]["pending"] == [] and bot.engine.registry.scanner.files["probe"].data == \
        probe("v1").encode()
    engine.between_cycles()
    assert bot.strategies()["probe"]["pending"] == ["validating"]
    bot.until(lambda: bot.generation("probe") == 2)


def test_garbage_is_collected_between_cycles_while_the_engine_runs(tmp_path, bots):
    """Inside Engine.run automatic collection is off; the engine collects after a cycle instead."""
    import gc

    bot = bots(make_home(tmp_path / "h", SLOTS[1:], {"probe": WHERE}))
    engine = bot.engine
    with engine.collector.deferred():
        assert not gc.isenabled()
        for _ in range(gc.get_threshold()[0] + 10):
            cycle = [[]]
            cycle[0].append(cycle)  # cyclic garbage: only the collector frees it
        before = list(engine.collector.collections)
        engine.step()
        assert engine.collector.collections == before  # nothing collected inside the cycle
        engine.between_cycles()
        assert engine.collector.collections[0] + engine.collector.collections[1] > before[0] + before[1]
    assert gc.isenabled()
