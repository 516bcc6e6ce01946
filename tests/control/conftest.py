"""Control-plane fixtures: a probe home (a test strategy that trades every cycle) and an engine
driven in-process, one cycle at a time, with every order it sends recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nonstop.control.writer import ControlWriter
from nonstop.engine.build import RunOptions, build_engine
from nonstop.home.config import load_config
from nonstop.home.init import init_home
from nonstop.home.paths import Home
from nonstop.venues.sim import SimConfig, SimVenue

PROBE = '''
from nonstop.strategy import Intent, OrderType, Outcome


class Probe:
    """Every cycle one intent, as its params say (a test strategy, read in the constructor)."""

    def __init__(self, params):
        self.action = params.get("action", "buy")  # buy | sell_when_held | both | none
        self.outcome = Outcome(params.get("outcome", "Up"))
        self.order_type = OrderType(params.get("order_type", "FAK"))
        self.limit = params.get("limit")
        self.min_left = float(params.get("min_seconds_left", 20))

    def decide(self, ctx):
        if ctx.window.seconds_left < self.min_left:
            return []
        buy = Intent.buy(self.outcome, self.limit, order_type=self.order_type, reason="probe")
        if self.action == "buy":
            return [buy]
        if self.action == "sell_when_held":
            if ctx.position.shares(self.outcome) >= 5:
                return [Intent.sell(self.outcome, order_type=OrderType.FAK, reason="probe sell")]
            return [buy]
        if self.action == "both":
            return [buy, Intent.buy(self.outcome.other, self.limit, order_type=self.order_type, reason="probe")]
        return []
'''

SLOTS = (("p-btc-5m", "BTC", "5m"), ("p-eth-5m", "ETH", "5m"), ("p-btc-15m", "BTC", "15m"))


def probe_config(params: dict[str, Any] | None = None, slots=SLOTS) -> str:
    lines = ['venue = "sim"', "seed = 11", "", "[engine]", "period_s = 1.0", "starting_cash = 1000000.0", ""]
    for slot_id, asset, tf in slots:
        lines += ["[[slot]]", f'id = "{slot_id}"', 'module = "probe"', 'class = "Probe"', f'asset = "{asset}"',
                  f'timeframe = "{tf}"', f"params = {_toml_table(params or {})}", ""]
    return "\n".join(lines)


def _toml_table(params: dict[str, Any]) -> str:
    return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in params.items()) + " }"


def make_probe_home(root: Path, params: dict[str, Any] | None = None) -> Home:
    home = init_home(root)
    (home.strategies / "probe.py").write_text(PROBE, encoding="utf-8")
    home.config.write_text(probe_config(params), encoding="utf-8")
    return home


class Recorder:
    """Wraps the engine's venue: every order placed and every cancel, in order."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.placed: list[Any] = []
        self.cancels: list[str] = []
        self.cancel_alls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def place(self, order: Any, now: float) -> None:
        self.placed.append(order)
        self.inner.place(order, now)

    def cancel(self, client_id: str, now: float) -> None:
        self.cancels.append(client_id)
        self.inner.cancel(client_id, now)

    def cancel_all(self, now: float) -> None:
        self.cancel_alls += 1
        self.inner.cancel_all(now)


class Driver:
    """A real engine on the sim, stepped one venue second at a time; control edits through the writer."""

    def __init__(self, home: Home) -> None:
        self.home = home
        config = load_config(home)
        self.venue = Recorder(SimVenue(config.seed, SimConfig(**config.sim)))
        self.engine = build_engine(home, RunOptions(speed=None, status_min_interval_s=0.0), venue=self.venue)
        self.venue.start(self.engine.clock.now())
        self.writer = ControlWriter(home)

    def step(self, n: int = 1) -> list[Any]:
        """Run n cycles; the orders they placed."""
        before = len(self.venue.placed)
        for _ in range(n):
            self.engine.clock.wait_until(self.engine.clock.now() + self.engine.period)
            self.engine.step()
            self.engine.between_cycles()  # as Engine.run does
        return self.venue.placed[before:]

    def edit(self, keys: dict[str, Any] | None = None, **pairs: Any) -> int:
        """Set dotted keys (as a dict, or as keywords with __ for dots) through the writer; the new revision."""
        from nonstop.control.edits import set_values

        items = [*(keys or {}).items(), *((k.replace("__", "."), v) for k, v in pairs.items())]
        result = self.writer.update(set_values(items, [s[0] for s in SLOTS]), actor="test")
        return result.new.revision

    def status(self) -> dict[str, Any]:
        return json.loads(self.home.status.read_text(encoding="utf-8"))

    def close(self) -> None:
        self.engine.close()


@pytest.fixture
def probe_home(tmp_path: Path) -> Home:
    return make_probe_home(tmp_path / "home")


@pytest.fixture
def driver(probe_home: Home):
    d = Driver(probe_home)
    yield d
    d.close()
