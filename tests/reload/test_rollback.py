"""(d) Rollback through control.json (`nonstop ctl rollback`): an earlier generation, the file untouched."""

from __future__ import annotations

import hashlib
import json

from typer.testing import CliRunner

from nonstop.cli.main import app
from tests.reload.conftest import Bot, make_home, probe, slot, write

SLOTS = [slot("p-btc", "probe", "Probe", "BTC"), slot("p-eth", "probe", "Probe", "ETH")]


def ctl(home, *args: str) -> None:
    result = CliRunner().invoke(app, ["ctl", "--home", str(home.root), *args])
    assert result.exit_code == 0, result.output


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_rollback_reinstates_an_earlier_generation_and_survives_a_restart(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(3)
    for n, tag in ((2, "v2"), (3, "v3")):
        write(home.strategies / "probe.py", probe(tag))
        bot.until(lambda n=n: bot.generation("probe") == n, pace=0.002)

    ctl(home, "rollback", "probe")  # no --to: the previous generation
    bot.until(lambda: bot.generation("probe") == 2, max_steps=5)
    bot.step(2)
    entry = bot.strategies()["probe"]
    assert (home.strategies / "probe.py").read_text() == probe("v3")  # the file is not touched
    assert entry["hash"] == sha(probe("v2")) and entry["file_hash"] == sha(probe("v3"))
    assert entry["differs_from_file"] is True and entry["pinned"] is True
    assert entry["history"][-1]["origin"] == "rollback" and entry["history"][-1]["note"].startswith("request ")
    assert bot.tags("p-btc")[-1][1] == "v2"

    ctl(home, "rollback", "probe", "--to", "1")
    bot.until(lambda: bot.generation("probe") == 1, max_steps=5)
    history = len(bot.strategies()["probe"]["history"])
    ctl(home, "rollback", "probe", "--to", "99")
    bot.step(3)
    entry = bot.strategies()["probe"]
    assert entry["generation"] == 1 and len(entry["history"]) == history  # earlier requests are not applied again
    failure = entry["last_failure"]
    assert failure["phase"] == "rollback" and "generation 99 of probe is not kept (kept: 1, 2, 3)" in failure["message"]
    assert bot.tags("p-btc")[-1][1] == "v1"
    bot.close()

    # A restart keeps the rolled-back generation (the file still differs) and applies no request twice.
    again = bots(home)
    again.step(3)
    entry = again.strategies()["probe"]
    assert entry["generation"] == 1 and entry["hash"] == sha(probe("v1")) and entry["differs_from_file"] is True
    assert again.tags("p-btc")[-1][1] == "v1"
    # Editing the file again ends the pin: the new content goes live, numbering carries on.
    write(home.strategies / "probe.py", probe("v4"))
    again.until(lambda: again.generation("probe") == 4, pace=0.002)
    entry = again.strategies()["probe"]
    assert entry["differs_from_file"] is False and entry["pinned"] is False
    again.close()  # the kept sources are written off the cycle; all are on disk once the bot stopped
    assert sorted(p.name[:6] for p in (home.generations / "probe").glob("g*.py")) == \
        ["g00001", "g00002", "g00003", "g00004"]


def test_rollback_of_an_unknown_strategy_changes_nothing(tmp_path, bots):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    bot = bots(home)
    bot.step(2)
    doc = json.loads(home.control.read_text())  # a person with an editor
    doc["revision"] += 1
    doc["requests"]["rollback"] = [{"id": doc["revision"], "strategy": "nosuchmodule", "to_generation": 1}]
    home.control.write_text(json.dumps(doc))
    bot.step(3)
    entry = bot.strategies()["probe"]
    assert entry["generation"] == 1 and entry["last_failure"] is None and len(entry["history"]) == 1


def test_restart_loads_the_same_generation_without_a_new_number(tmp_path):
    home = make_home(tmp_path / "h", SLOTS, {"probe": probe("v1")})
    first = Bot(home)
    write(home.strategies / "probe.py", probe("v2"))
    first.until(lambda: first.generation("probe") == 2, pace=0.002)
    first.close()
    second = Bot(home)
    try:
        entry = second.strategies()["probe"]
        assert entry["generation"] == 2 and entry["origin"] == "restart" and entry["differs_from_file"] is False
        write(home.strategies / "probe.py", probe("v3") + "\nraise SystemExit('broken while stopped')\n")
    finally:
        second.close()
    # A file broken while the bot was stopped: the bot starts on the last good generation and says why.
    third = Bot(home)
    try:
        entry = third.strategies()["probe"]
        assert entry["generation"] == 2 and entry["differs_from_file"] is True
        assert "broken while stopped" in entry["last_failure"]["message"]
        third.step(2)
        assert third.tags("p-btc")[-1][1] == "v2"
    finally:
        third.close()
