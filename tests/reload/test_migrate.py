"""(e) State across generations: STATE_VERSION + migrate(memory, from_version), and a migrate that raises."""

from __future__ import annotations

from tests.reload.conftest import make_home, probe, slot, write

SLOTS = [slot("p-btc", "probe", "Probe", "BTC"), slot("p-eth", "probe", "Probe", "ETH")]

V2 = '''\
from nonstop.strategy import Context, Intent

TAG = "v2"
STATE_VERSION = 2


class Probe:
    def __init__(self, params: dict) -> None:
        pass

    def decide(self, ctx: Context) -> list[Intent]:
        ctx.memory["count"] += 1
        return [Intent.arm(f"{TAG} n={ctx.memory['count']} w={ctx.window.start} from={ctx.memory['from']}")]

    @staticmethod
    def migrate(memory: dict, from_version: int) -> dict:
        return {"count": memory.pop("n"), "from": from_version}
'''

V3_RAISING = V2.replace('TAG = "v2"', 'TAG = "v3"').replace("STATE_VERSION = 2", "STATE_VERSION = 3").replace(
    '        return {"count": memory.pop("n"), "from": from_version}',
    '        memory["count"] = -1  # scribbles on what it was given, then fails\n'
    '        raise KeyError("no field n in version 2 memory")  # MARK')


def count(decision: str) -> int:
    return int(decision.split(" n=")[1].split(" ")[0])


def window(decision: str) -> str:
    return decision.split(" w=")[1].split(" ")[0]


def test_migrate_turns_old_memory_into_the_new_shape(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(10)
    write(home.strategies / "probe.py", V2)
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    bot.step(1)
    swap = bot.strategies()["probe"]["history"][-1]["cycle_live"]
    for slot_id in ("p-btc", "p-eth"):
        before = [d for c, d in bot.decisions[slot_id] if c == swap - 1][0]
        after = [d for c, d in bot.decisions[slot_id] if c == swap][0]
        assert before.startswith("armed: v1") and after.startswith("armed: v2")
        assert window(before) == window(after), "the swap fell on a window boundary; move the edit"
        assert count(after) == count(before) + 1 and "from=1" in after  # the count carried over, migrated
    memory = bot.engine.memory.snapshot()
    assert memory and all(set(cell) == {"count", "from"} for cell in memory.values())
    assert bot.strategies()["probe"]["state_version"] == 2


def test_a_raising_migrate_keeps_the_old_generation_and_its_memory(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(3)
    write(home.strategies / "probe.py", V2)
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    write(home.strategies / "probe.py", V3_RAISING)
    bot.until(lambda: bot.strategies()["probe"]["last_failure"] is not None, pace=0.002)
    entry = bot.strategies()["probe"]
    failure = entry["last_failure"]
    assert entry["generation"] == 2 and entry["state_version"] == 2
    assert failure["phase"] == "migrate" and "no field n in version 2 memory" in failure["message"]
    assert failure["line"] == next(i for i, line in enumerate(V3_RAISING.splitlines(), 1) if "MARK" in line)
    before = count(bot.decisions["p-btc"][-1][1])
    bot.step(5)
    tags = bot.tags("p-btc")[-5:]
    assert [t for _, t in tags] == ["v2"] * 5
    last = bot.decisions["p-btc"][-6:]
    if window(last[0][1]) == window(last[-1][1]):
        assert count(last[-1][1]) == before + 5  # memory untouched by the failed migrate
    assert all(cell["count"] > 0 for cell in bot.engine.memory.snapshot().values())


def test_same_state_version_keeps_the_very_same_memory(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(5)
    write(home.strategies / "probe.py", probe("v1b"))
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    bot.step(1)
    decisions = [d for _, d in bot.decisions["p-btc"]]
    for a, b in zip(decisions, decisions[1:]):  # counting on across the swap; only a new window starts at 1
        assert count(b) == (count(a) + 1 if window(a) == window(b) else 1)


def test_new_state_version_without_migrate_starts_memory_afresh(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(5)
    write(home.strategies / "probe.py", probe("v2", state_version=2))
    bot.until(lambda: bot.generation("probe") == 2, pace=0.002)
    bot.step(1)
    swap = bot.strategies()["probe"]["history"][-1]["cycle_live"]
    assert count([d for c, d in bot.decisions["p-btc"] if c == swap][0]) == 1
