"""Each control field changes what a real engine (on the sim) sends, on the very next cycle.

The engine runs in-process one venue second at a time; control.json is edited between cycles
through ControlWriter, exactly as `nonstop ctl` or Mission Control would. The probe strategy
asks for an order every cycle in every slot, so the orders placed show each effect.
"""

from __future__ import annotations

from pathlib import Path

from nonstop.control.edits import unset_values
from nonstop.control.writer import ControlWriter
from nonstop.home.paths import Home
from tests.control.conftest import Driver, make_probe_home

GENEROUS = dict(sizing__max_exposure_window_usd=1e5, sizing__max_exposure_asset_default_usd=1e6,
                sizing__max_exposure_total_usd=1e7)


def usd(order) -> float:  # type: ignore[no-untyped-def]
    return order.size * order.price


def slots_of(orders) -> set[str]:  # type: ignore[no-untyped-def]
    return {o.slot_id for o in orders}


def test_order_size_global_and_per_asset(driver: Driver) -> None:
    driver.edit(**GENEROUS)
    first = driver.step(2)
    assert len(first) == 6 and all(9.9 < usd(o) <= 10.0 for o in first)
    driver.edit(sizing__order_usd=25)
    nxt = driver.step()
    assert len(nxt) == 3 and all(24.9 < usd(o) <= 25.0 for o in nxt)
    driver.edit(sizing__order_usd_per_asset__BTC=40)
    nxt = driver.step()
    assert {o.slot_id: round(usd(o)) for o in nxt} == {"p-btc-5m": 40, "p-btc-15m": 40, "p-eth-5m": 25}


def test_exposure_caps_window_asset_and_total(driver: Driver) -> None:
    driver.edit(**GENEROUS)
    assert len(driver.step(2)) == 6
    # A cap below one minimum order: the next cycle sends nothing there, and says why.
    driver.edit(sizing__max_exposure_asset_usd__BTC=1)
    assert slots_of(driver.step()) == {"p-eth-5m"}
    assert "exposure cap" in driver.status()["slots"][0]["last_decision"]
    driver.writer.update(unset_values(["sizing.max_exposure_asset_usd.BTC"]), actor="test")
    assert slots_of(driver.step()) == {"p-btc-5m", "p-eth-5m", "p-btc-15m"}
    driver.edit(sizing__max_exposure_asset_default_usd=1)
    assert driver.step() == []
    driver.edit(sizing__max_exposure_asset_default_usd=1e6, sizing__max_exposure_window_usd=1)
    assert driver.step() == []
    driver.edit(sizing__max_exposure_window_usd=1e5, sizing__max_exposure_total_usd=1)
    assert driver.step() == []
    driver.edit(sizing__max_exposure_total_usd=1e7)
    assert len(driver.step()) == 3
    pm = driver.engine.positions
    driver.edit(sizing__max_exposure_window_usd=pm.exposure_window(driver.engine.slots[1].market.slug) + 15)
    nxt = driver.step()  # the room left clips the order: at most $15 more in the ETH window
    assert [o.slot_id for o in nxt if o.slot_id == "p-eth-5m"] and all(usd(o) <= 15.0 for o in nxt)


def test_paused_cancels_resting_orders_and_places_none(tmp_path: Path) -> None:
    d = Driver(make_probe_home(tmp_path / "h", {"order_type": "GTC", "limit": 0.05}))  # buys that rest
    try:
        assert len(d.step(3)) == 9
        d.step()
        resting = {r.request.client_id for r in d.engine.positions.open_orders()}
        assert len(resting) >= 9
        revision = d.edit(mode="PAUSED")
        assert d.step(3) == []
        assert resting <= set(d.venue.cancels)
        assert d.engine.positions.open_orders() == []
        status = d.status()["control"]
        assert status["applied_revision"] == revision and status["mode"] == "PAUSED"
        d.edit(mode="ACTIVE")
        assert len(d.step()) == 3
    finally:
        d.close()


def test_halted_cancels_everything_and_refuses_until_resumed(driver: Driver) -> None:
    assert len(driver.step(2)) == 6
    driver.edit(mode="HALTED", halt_reason="drill")
    assert driver.step() == [] and driver.venue.cancel_alls == 1
    driver.edit(sizing__order_usd=12)  # any other edit leaves the kill switch on
    assert driver.step(2) == []
    assert driver.status()["control"]["mode"] == "HALTED"
    ControlWriter(driver.home).resume(actor="test")
    nxt = driver.step()
    assert len(nxt) == 3 and all(11.9 < usd(o) <= 12.0 for o in nxt)


def test_reduce_only_sends_only_orders_that_shrink_exposure(tmp_path: Path) -> None:
    d = Driver(make_probe_home(tmp_path / "h"))
    try:
        d.edit({"slot_params.p-btc-5m": {"order_type": "GTC", "limit": 0.05}}, **GENEROUS)
        d.step(3)
        assert all(o.side.value == "BUY" for o in d.venue.placed)
        resting_buys = {r.request.client_id for r in d.engine.positions.open_orders("p-btc-5m")}
        assert resting_buys
        d.edit({"mode": "REDUCE_ONLY", "slot_params.p-eth-5m.action": "sell_when_held",
                "slot_params.p-btc-15m.action": "sell_when_held"})
        nxt = d.step(2)
        assert nxt and all(o.side.value == "SELL" for o in nxt)
        assert resting_buys <= set(d.venue.cancels)
        d.edit(mode="ACTIVE")
        assert any(o.side.value == "BUY" for o in d.step(2))
    finally:
        d.close()


def test_toggles_asset_timeframe_and_slot(tmp_path: Path) -> None:
    d = Driver(make_probe_home(tmp_path / "h", {"order_type": "GTC", "limit": 0.05}))
    try:
        d.edit(**GENEROUS)
        assert len(d.step(2)) == 6
        btc = {r.request.client_id for r in d.engine.positions.open_orders() if r.request.slot_id.startswith("p-btc")}
        d.edit(toggles__assets__BTC=False)
        assert slots_of(d.step()) == {"p-eth-5m"}
        assert btc <= set(d.venue.cancels)  # an asset switched off keeps nothing resting
        assert d.status()["slots"][0]["enabled"] is False
        d.edit(toggles__assets__BTC=True, toggles__timeframes__5m=False)
        assert slots_of(d.step()) == {"p-btc-15m"}
        d.edit({"toggles.timeframes.5m": True, "toggles.slots.p-btc-15m": False})
        assert slots_of(d.step()) == {"p-btc-5m", "p-eth-5m"}
        d.edit({"toggles.slots.p-btc-15m": True})
        assert slots_of(d.step()) == {"p-btc-5m", "p-eth-5m", "p-btc-15m"}
    finally:
        d.close()


def test_slot_params_rebuild_the_strategy(driver: Driver) -> None:
    assert {o.outcome.value for o in driver.step()} == {"Up"}
    driver.edit({"slot_params.p-eth-5m.outcome": "Down"})
    nxt = driver.step()
    assert {(o.slot_id, o.outcome.value) for o in nxt} == {
        ("p-btc-5m", "Up"), ("p-eth-5m", "Down"), ("p-btc-15m", "Up")}
    driver.edit({"slot_params.p-eth-5m": {"action": "none"}})
    assert slots_of(driver.step()) == {"p-btc-5m", "p-btc-15m"}


def test_max_daily_loss_halts_the_bot_until_an_explicit_resume(tmp_path: Path) -> None:
    d = Driver(make_probe_home(tmp_path / "h", {"action": "both"}))  # buying both sides always loses
    try:
        d.edit(sizing__max_daily_loss_usd=0.5, **GENEROUS)
        for _ in range(900):
            d.step()
            if d.engine.mode.value == "HALTED":
                break
        control = d.status()["control"]
        assert control["mode"] == "HALTED" and "sizing.max_daily_loss_usd" in control["halt_reason"]
        assert d.venue.cancel_alls == 1 and d.step(3) == []
        d.edit(sizing__max_daily_loss_usd=1e6)  # raising the cap alone does not resume
        assert d.step() == [] and d.engine.mode.value == "HALTED"
        d.edit(sizing__max_daily_loss_usd=0.5)
        d.writer.resume(actor="test")  # a resume while the loss is still over the cap changes nothing
        assert d.step() == [] and d.engine.mode.value == "HALTED"
        d.edit(sizing__max_daily_loss_usd=1e6)
        d.writer.resume(actor="test")
        assert len(d.step()) == 6 and d.engine.mode.value == "ACTIVE"
    finally:
        d.close()


def test_status_reports_each_applied_revision(driver: Driver) -> None:
    for usd_value in (11, 12, 13):
        revision = driver.edit(sizing__order_usd=usd_value)
        driver.step()
        assert driver.status()["control"]["applied_revision"] == revision
    assert Home(driver.home.root).audit.exists()


def test_no_valid_control_at_start_means_paused_until_one_appears(tmp_path: Path) -> None:
    home = make_probe_home(tmp_path / "h")
    home.control.write_text('{"revision": 7, "mode": "ACTIVE", "sizing": {"order_usd": ')  # cut mid-write
    d = Driver(home)
    try:
        assert d.step(2) == []
        control = d.status()["control"]
        assert control["mode"] == "PAUSED" and control["applied_revision"] == 0
        assert control["refused"]["reason"].startswith("control.json: line 1 column")
        restored = d.writer.restore(actor="ops")  # above the revision the broken file claimed
        assert restored.new.revision == 8 and restored.new.mode.value == "PAUSED"
        assert d.step() == [] and d.status()["control"]["refused"] is None
        d.writer.resume(actor="ops")
        assert len(d.step()) == 3
    finally:
        d.close()


def test_a_paced_watch_looks_at_control_json_at_its_own_pace(driver: Driver) -> None:
    """A backtest looks at its files every `watch_every_s` of wall time, not every cycle (backtest/runner.py)."""
    driver.edit(**GENEROUS)
    assert len(driver.step(2)) == 6
    driver.engine.watch_every_s = 3600.0
    driver.step()  # the first paced cycle looks; the next ones do not, for an hour of wall time
    driver.edit(mode="PAUSED")
    assert len(driver.step(3)) == 9 and driver.engine.mode.value == "ACTIVE"
    driver.engine.watch_every_s = 0.0  # every cycle again: the edit is applied on the very next one
    assert driver.step() == [] and driver.engine.mode.value == "PAUSED"
