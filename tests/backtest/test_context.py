"""What a strategy sees does not depend on how cheaply the engine builds it (engine/context.py).

The Context's costlier fields are filled on first read and a slot's Context is refilled in place
when nobody kept it; through the engine's public API (build_engine, Engine.step) these tests check
that a strategy cannot tell: a kept Context, and a kept window, still hold their own cycle's values
when read cycles later, equal to what another slot read during that cycle.
"""

from __future__ import annotations

from pathlib import Path

from nonstop.engine.build import RunOptions, build_engine
from nonstop.home.init import init_home
from nonstop.home.paths import Home

PROBES = '''
from nonstop.strategy import Intent

SEEN = {}  # (now, asset) -> what the reader saw in that cycle (one module: shared by its slots)


def view(ctx):
    up, down = ctx.up_book, ctx.down_book
    return (ctx.now, ctx.asset, ctx.spot, ctx.oracle, ctx.twap, sorted(ctx.indicators.items()), ctx.position,
            up and (up.bids, up.asks, up.ts), down and (down.best_bid, down.best_ask, down.ts),
            ctx.window.slug, ctx.window.seconds_left, ctx.fee_rate)


class Reader:
    """Reads every field during its decide, as an eager Context would have held them."""

    def __init__(self, params):
        pass

    def decide(self, ctx):
        SEEN[(ctx.now, ctx.asset)] = view(ctx)
        return []


class Keeper:
    """Keeps its Contexts and windows (outside the contract) and reads them three cycles later."""

    def __init__(self, params):
        self.kept = []

    def decide(self, ctx):
        self.kept.append((ctx, ctx.window, ctx.window.seconds_left))
        if len(self.kept) > 3:
            old, window, left = self.kept.pop(0)
            if view(old) != SEEN[(old.now, old.asset)]:
                raise AssertionError(f"the Context of {old.now} changed after its cycle")
            if window is not old.window or window.seconds_left != left:
                raise AssertionError(f"the window of {old.now} changed after its cycle")
            ctx.memory["checked"] = ctx.memory.get("checked", 0) + 1
        return []  # no intents: nothing makes the engine fill the fields before routing


class Replacer:
    """dataclasses.replace, == and repr on the Context it is given, every cycle."""

    def __init__(self, params):
        pass

    def decide(self, ctx):
        import dataclasses
        twin = dataclasses.replace(ctx, spot=ctx.spot)
        if twin != ctx or view(twin) != SEEN[(ctx.now, ctx.asset)]:
            raise AssertionError("a replaced Context differs")
        if not repr(ctx).startswith("Context(now="):
            raise AssertionError(f"a Context prints as {repr(ctx)[:20]}")
        return [Intent.arm("ok")] if ctx.now % 7 == 0 else []
'''


def _home(tmp_path: Path) -> Path:
    home = init_home(tmp_path / "home", seed=5)
    (home.strategies / "probes.py").write_text(PROBES)
    text = home.config.read_text()
    head = text[: text.index("[[slot]]")]
    slots = [("reader", "Reader", "BTC", "5m"), ("keeper", "Keeper", "BTC", "5m"), ("replacer", "Replacer", "BTC", "5m"),
             ("reader-eth", "Reader", "ETH", "15m"), ("keeper-eth", "Keeper", "ETH", "15m")]
    home.config.write_text(head + "".join(
        f'[[slot]]\nid = "{sid}"\nmodule = "probes"\nclass = "{cls}"\nasset = "{asset}"\ntimeframe = "{tf}"\n\n'
        for sid, cls, asset, tf in slots))
    return home.root


def test_a_kept_context_keeps_its_own_cycle_values(tmp_path: Path) -> None:
    engine = build_engine(Home(_home(tmp_path)), RunOptions(venue="sim", speed=None))
    try:
        engine.venue.start(engine.clock.now())
        next_at = engine.clock.now()
        for _ in range(150):
            engine.clock.wait_until(next_at)
            engine.step()
            next_at += engine.period
        slots = {rt.config.id: rt for rt in engine.slots}
        assert {sid: rt.errors for sid, rt in slots.items()} == dict.fromkeys(slots, 0), \
            {sid: rt.last_decision for sid, rt in slots.items()}
        checked: dict[str, int] = {}  # memory is per slot and window: "slot@window" -> cell
        for key, cell in engine.memory.snapshot().items():
            slot = key.split("@")[0]
            checked[slot] = max(checked.get(slot, 0), cell.get("checked", 0))
        assert checked.get("keeper", 0) > 10 and checked.get("keeper-eth", 0) > 10, checked
    finally:
        engine.close()
