"""The writer library contract (used by `nonstop ctl` and Mission Control)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from nonstop.control.schema import ControlDoc, Mode
from nonstop.control.writer import ControlRejected, ControlWriter, StaleRevision, WriteResult, read_audit
from nonstop.home.paths import Home


@pytest.fixture
def writer(home: Path) -> ControlWriter:
    return ControlWriter(Home(home))


def test_init_writes_a_valid_document_at_revision_1(writer: ControlWriter) -> None:
    doc = writer.read()
    assert isinstance(doc, ControlDoc)
    assert doc.revision == 1 and doc.mode is Mode.ACTIVE and doc.schema_version == 1
    assert read_audit(writer.home) == []


def test_update_bumps_revision_sets_actor_writes_and_audits(writer: ControlWriter) -> None:
    result = writer.update(lambda d: {**d, "mode": "PAUSED"}, actor="alice")
    assert isinstance(result, WriteResult) and result.changed
    assert (result.old.revision, result.new.revision) == (1, 2)
    assert result.new.updated_by == "alice" and result.new.updated_at > result.old.updated_at
    assert result.diff == [{"path": "mode", "old": "ACTIVE", "new": "PAUSED"}]
    on_disk = json.loads(writer.home.control.read_text())
    assert on_disk["revision"] == 2 and on_disk["mode"] == "PAUSED" and on_disk["updated_by"] == "alice"
    [line] = read_audit(writer.home)
    assert set(line) == {"time", "actor", "old_revision", "new_revision", "diff"}
    assert (line["actor"], line["old_revision"], line["new_revision"]) == ("alice", 1, 2)
    assert line["diff"] == result.diff


def test_the_change_cannot_set_revision_or_author(writer: ControlWriter) -> None:
    result = writer.update(lambda d: {**d, "revision": 999, "updated_by": "mallory", "halt_reason": "x"},
                           actor="bob")
    assert result.new.revision == 2 and result.new.updated_by == "bob"


def test_expect_revision_is_compare_and_swap(writer: ControlWriter) -> None:
    writer.update(lambda d: {**d, "mode": "PAUSED"}, actor="a", expect_revision=1)
    with pytest.raises(StaleRevision) as info:
        writer.update(lambda d: {**d, "mode": "HALTED"}, actor="b", expect_revision=1)
    assert info.value.current == 2
    assert writer.read().mode is Mode.PAUSED and len(read_audit(writer.home)) == 1


def test_replace_puts_a_whole_document(writer: ControlWriter) -> None:
    doc = writer.read().model_dump(mode="json")
    doc["sizing"]["order_usd"] = 42.0
    doc["toggles"]["assets"]["SOL"] = False
    result = writer.replace(doc, actor="mc", expect_revision=1)
    assert result.new.sizing.order_usd == 42.0 and result.new.toggles.assets["SOL"] is False
    assert {d["path"] for d in result.diff} == {"sizing.order_usd", "toggles.assets.SOL"}
    with pytest.raises(StaleRevision):
        writer.replace(doc, actor="mc", expect_revision=1)


def test_an_invalid_result_is_refused_and_nothing_is_written(writer: ControlWriter) -> None:
    before = writer.home.control.read_bytes()
    with pytest.raises(ControlRejected) as info:
        writer.update(lambda d: {**d, "sizing": {**d["sizing"], "order_usd": -3}}, actor="a")
    assert str(info.value) == "sizing.order_usd: -3: out of range; allowed: a number > 0 and <= 100000"
    assert (info.value.field, info.value.value) == ("sizing.order_usd", "-3")
    assert isinstance(info.value, ValueError)
    assert writer.home.control.read_bytes() == before and read_audit(writer.home) == []


def test_a_change_that_changes_nothing_writes_nothing(writer: ControlWriter) -> None:
    result = writer.update(lambda d: d, actor="a")
    assert not result.changed and result.new.revision == 1 and result.diff == []
    assert read_audit(writer.home) == []


def test_request_rollback_appends_distinct_requests(writer: ControlWriter) -> None:
    first = writer.request_rollback("momentum", None, actor="ops")
    second = writer.request_rollback("late_window_snipe", 1, actor="ops")
    reqs = second.new.requests.rollback
    assert [(r.strategy, r.to_generation) for r in reqs] == [("momentum", None), ("late_window_snipe", 1)]
    assert reqs[0].id == first.new.revision and reqs[1].id == second.new.revision
    assert reqs[1].requested_by == "ops"
    with pytest.raises(ControlRejected) as info:
        writer.request_rollback("nosuch", None, actor="ops")
    assert "nosuch" in str(info.value) and "momentum" in str(info.value)


def test_resume_is_always_a_new_revision(writer: ControlWriter) -> None:
    """Resume must reach the bot even when the document is ACTIVE already (the bot may have halted itself)."""
    result = writer.resume(actor="ops")
    assert result.changed and result.new.mode is Mode.ACTIVE and result.new.requests.resume == 1


def test_unknown_slot_names_are_refused(writer: ControlWriter) -> None:
    with pytest.raises(ControlRejected) as info:
        writer.update(lambda d: {**d, "toggles": {**d["toggles"], "slots": {"nope": False}}}, actor="a")
    assert str(info.value).startswith('toggles.slots: key "nope": unknown slot; allowed: ')
    assert "snipe-btc-5m" in str(info.value)


def test_a_broken_file_is_not_edited_and_restore_rewrites_it_paused(writer: ControlWriter) -> None:
    writer.update(lambda d: {**d, "mode": "HALTED"}, actor="a")
    writer.home.control.write_text('{"revision": 2, "mode": ')
    with pytest.raises(ControlRejected) as info:
        writer.update(lambda d: d, actor="a")
    assert str(info.value).startswith("control.json: line 1 column")
    result = writer.restore(actor="ops", status_revision=2)
    assert result.new.revision == 3 and result.new.mode is Mode.PAUSED
    assert read_audit(writer.home)[-1]["new_revision"] == 3
    with pytest.raises(ControlRejected):  # a valid document is edited, never restored over
        writer.restore(actor="ops")


def test_threads_sharing_a_writer_lose_no_update(writer: ControlWriter) -> None:
    def work(i: int) -> None:
        for j in range(25):
            writer.update(lambda d: _set_param(d, f"t{i}", j), actor=f"thread{i}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    doc = writer.read()
    assert doc.revision == 101
    assert doc.slot_params["snipe-btc-5m"] == {f"t{i}": 24 for i in range(4)}
    revisions = [(e["old_revision"], e["new_revision"]) for e in read_audit(writer.home)]
    assert revisions == [(r, r + 1) for r in range(1, 101)]


def _set_param(doc: dict, key: str, value: int) -> dict:
    doc["slot_params"].setdefault("snipe-btc-5m", {})[key] = value
    return doc


def test_read_audit_tail(writer: ControlWriter) -> None:
    for usd in (11, 12, 13):
        writer.update(lambda d, usd=usd: {**d, "sizing": {**d["sizing"], "order_usd": usd}}, actor="a")
    with open(writer.home.audit, "a") as handle:
        handle.write('{"torn": ')  # a crash mid-append leaves at most a torn last line
    assert [e["new_revision"] for e in read_audit(writer.home, tail=2)] == [3, 4]
    assert len(read_audit(writer.home)) == 3
