"""Shared doors for the hot-reload tests: a home made by `nonstop init`, a bot stepped in-process.

The bot is the real engine (`build_engine`) on the embedded simulator at --speed max,
stepped one cycle at a time so a test can edit HOME/strategies between cycles. What a
test asserts on comes from status.json, the journal, or the strategy's own decisions.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

from nonstop.cli.main import app
from nonstop.engine.build import RunOptions, build_engine
from nonstop.home.paths import Home

# A strategy whose every decision says which generation made it (TAG) and counts cycles in
# engine-owned memory; it buys Up once per window near the end, so it trades too.
PROBE = '''\
from nonstop.strategy import Context, Intent, Outcome

TAG = "v1"
STATE_VERSION = 1


class Probe:
    def __init__(self, params: dict) -> None:
        self.buy_at = float(params.get("buy_at", 120))

    def decide(self, ctx: Context) -> list[Intent]:
        ctx.memory["n"] = ctx.memory.get("n", 0) + 1
        out = [Intent.arm(f"{TAG} n={ctx.memory['n']} w={ctx.window.start}")]
        if not ctx.window.fired and ctx.window.seconds_left < self.buy_at:
            out.append(Intent.buy(Outcome.UP, 0.99, size_usd=6, reason=TAG))
        return out
'''


def probe(tag: str = "v1", extra: str = "", state_version: int = 1) -> str:
    text = PROBE.replace('TAG = "v1"', f'TAG = "{tag}"').replace("STATE_VERSION = 1", f"STATE_VERSION = {state_version}")
    return text + extra


def slot(id: str, module: str, cls: str, asset: str = "BTC", timeframe: str = "5m", params: str = "{}") -> str:
    return (f'[[slot]]\nid = "{id}"\nmodule = "{module}"\nclass = "{cls}"\nasset = "{asset}"\n'
            f'timeframe = "{timeframe}"\nparams = {params}\n')


def make_home(root: Path, slots: list[str] | None = None, files: dict[str, str] | None = None,
              seed: int = 7) -> Home:
    """`nonstop init`, then (optionally) our own slots and strategy files."""
    result = CliRunner().invoke(app, ["init", str(root), "--seed", str(seed)])
    assert result.exit_code == 0, result.output
    home = Home(root)
    for name, text in (files or {}).items():
        (home.strategies / f"{name}.py").write_text(text)
    if slots is not None:
        config = home.config.read_text()
        home.config.write_text(config[: config.index("[[slot]]")] + "\n".join(slots))
    return home


def write(path: Path, text: str, age_s: float = 0.0) -> None:
    """Rewrite a file in place, as an editor does; `age_s` back-dates its mtime (written long ago)."""
    with open(path, "w") as handle:
        handle.write(text)
    if age_s:
        past = time.time() - age_s
        os.utime(path, (past, past))


class Bot:
    """The engine, stepped by the test; records every slot's decision at every cycle."""

    def __init__(self, home: Home) -> None:
        self.home = home
        self.engine = build_engine(home, RunOptions(speed=None))
        self.engine.venue.start(self.engine.clock.now())
        self.decisions: dict[str, list[tuple[int, str]]] = {rt.config.id: [] for rt in self.engine.slots}
        self.walls: dict[int, float] = {}
        self.closed = False

    @property
    def registry(self) -> Any:
        return self.engine.registry

    def step(self, n: int = 1, pace: float = 0.0) -> None:
        engine = self.engine
        for _ in range(n):
            self.walls[engine.cycle + 1] = time.time()
            engine.step()
            engine.between_cycles()  # as Engine.run does: the off-cycle half of a reload happens here
            for rt in engine.slots:
                self.decisions[rt.config.id].append((engine.cycle, rt.last_decision))
            engine.clock.wait_until(engine.clock.now() + engine.period)
            if pace:
                time.sleep(pace)

    def until(self, predicate: Callable[[], bool], max_steps: int = 3000, pace: float = 0.002) -> int:
        for i in range(max_steps):
            if predicate():
                return i
            self.step(pace=pace)
        raise AssertionError(f"condition not met within {max_steps} cycles; status: {self.strategies()}")

    def status(self) -> dict[str, Any]:
        """status.json as the bot writes it (published now, not throttled)."""
        self.engine.status_sink.publish(self.engine, final=True)
        return json.loads(self.home.status.read_text())

    def strategies(self) -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in self.status()["strategies"]}

    def generation(self, module: str) -> int:
        return int(self.strategies()[module]["generation"])

    def tags(self, slot_id: str) -> list[tuple[int, str]]:
        """(cycle, TAG) of each probe decision of a slot."""
        return [(c, d.split("armed: ", 1)[1].split(" ", 1)[0]) for c, d in self.decisions[slot_id] if "armed: " in d]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.engine.close()


@pytest.fixture
def bots():
    made: list[Bot] = []

    def make(home: Home) -> Bot:
        bot = Bot(home)
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.close()
