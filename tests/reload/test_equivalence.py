"""(a) The reload path changes nothing it should not: same seed, same trades; (g) state intact across a swap."""

from __future__ import annotations

from nonstop.state.journal_read import read_orders, read_trades
from tests.reload.conftest import make_home, probe, slot

CYCLES = 900


def run(tmp_path, name: str, bots, rewrite=None, settle_s: float | None = None):
    """The default home of `nonstop init` (16 slots), CYCLES cycles; `rewrite(i)` -> new text every 10 cycles."""
    home = make_home(tmp_path / name, seed=7, files={"probe": probe("v1")})
    with open(home.config, "a") as config:  # two slots that trade every window, beside the 16 of `init`
        config.write("\n" + slot("p-btc", "probe", "Probe", "BTC", "5m") + slot("p-eth", "probe", "Probe", "ETH", "15m"))
    bot = bots(home)
    if settle_s is not None:  # at --speed max 10 cycles take ~20 ms: settle within that, so each edit reloads
        bot.registry.scanner.settle_s = settle_s
    files = [home.strategies / f"{n}.py" for n in ("late_window_snipe", "momentum", "probe")]
    original = [f.read_text() for f in files]
    for i in range(CYCLES):
        if rewrite is not None and i % 10 == 5:
            for path, text in zip(files, original):
                path.write_text(rewrite(text, i))
        bot.step()
    gens = {name: bot.generation(name) for name in ("late_window_snipe", "momentum", "probe")}
    totals = vars(bot.engine.positions.totals).copy()
    bot.close()
    return read_orders(home, None), read_trades(home, None) + [totals], gens


def test_rewriting_the_unchanged_strategy_every_10_cycles_gives_identical_trades(tmp_path, bots):
    orders, trades, gens = run(tmp_path, "plain", bots)
    assert len(orders) >= 6 and len(trades) >= 1 and set(gens.values()) == {1}
    assert {o["slot"].split("-")[0] for o in orders} >= {"snipe", "p"}

    # Every 10 cycles each file is rewritten: alternately with the very same bytes (a new mtime, the
    # same hash: no reload) and with a comment-only change (a new hash: a full reload).
    def rewrite(text: str, i: int) -> str:
        edits = i // 20 + (1 if i % 20 == 15 else 0)
        return text + "".join(f"\n# edit {n}\n" for n in range(edits))

    rewritten = run(tmp_path, "rewritten", bots, rewrite=rewrite, settle_s=0.002)
    assert rewritten[0] == orders and rewritten[1] == trades
    reloads = CYCLES // 20
    assert all(reloads // 2 <= g - 1 <= reloads for g in rewritten[2].values()), rewritten[2]


SLOTS = [slot(f"p-{a.lower()}", "probe", "Probe", a, params="{ buy_at = 280 }") for a in ("BTC", "ETH", "SOL")]


def snapshot(bot) -> dict:
    engine = bot.engine
    pm = engine.positions
    return {
        "positions": sorted((k, p.up_shares, p.down_shares, p.cost, p.fees) for k, p in pm.positions.items()),
        "orders": sorted((c, r.status.value, r.filled) for c, r in pm.orders.items()),
        "totals": vars(pm.totals).copy(),
        "windows": [(rt.config.id, rt.market.slug if rt.market else None, dict(rt.armed)) for rt in engine.slots],
        "rate_limits": engine.rate_limit_status() if hasattr(engine, "rate_limit_status") else None,
        "memory": engine.memory.snapshot(),
        "cycle": engine.cycle,
    }


def test_positions_windows_and_rate_limit_budgets_are_the_same_across_a_swap(tmp_path, bots):
    plain = bots(make_home(tmp_path / "a", SLOTS, {"probe": probe("v1")}))
    swapped = bots(make_home(tmp_path / "b", SLOTS, {"probe": probe("v1")}))
    for _ in range(400):
        plain.step()
        swapped.step()
        if any(p.up_shares for p in plain.engine.positions.positions.values()):
            break
    assert snapshot(plain) == snapshot(swapped)
    assert plain.engine.positions.positions and snapshot(plain)["rate_limits"]
    (swapped.home.strategies / "probe.py").write_text(probe("v1") + "\n# a comment-only change\n")
    while swapped.generation("probe") == 1:
        before = snapshot(swapped)
        plain.step(pace=0.002)
        swapped.step(pace=0.002)
        assert snapshot(plain) == snapshot(swapped)
    swap = swapped.strategies()["probe"]["history"][-1]["cycle_live"]
    assert swap == swapped.engine.cycle and before["positions"]  # the swap happened with positions open
    for _ in range(30):
        plain.step()
        swapped.step()
    assert snapshot(plain) == snapshot(swapped)
