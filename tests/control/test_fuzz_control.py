"""Fuzzing control.json: random JSON, schema-shaped documents with out-of-range values, truncated
files, stale revisions, a deleted file. The bot never crashes, never applies an invalid document,
keeps the last good one in force (and trades under it), and says why it refused."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nonstop.control.schema import ControlDoc
from nonstop.control.watcher import ControlWatcher, load_initial
from tests.control.conftest import SLOTS, Driver, make_probe_home

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_leaf = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False)
             | st.text(max_size=12))
json_any = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=25)
doc_keys = st.sampled_from(list(ControlDoc.model_fields) + ["bogus"])
doc_shaped = st.dictionaries(doc_keys, json_any, max_size=6)

# Schema-valid in shape, out of range (or of the wrong kind) in one field: (path, value).
BAD_FIELDS: list[tuple[tuple[str, ...], Any]] = [
    (("sizing", "order_usd"), 0), (("sizing", "order_usd"), -1), (("sizing", "order_usd"), 100_001),
    (("sizing", "order_usd"), "10"), (("sizing", "order_usd"), True), (("sizing", "order_usd"), None),
    (("sizing", "max_exposure_window_usd"), 0), (("sizing", "max_exposure_total_usd"), 1e12),
    (("sizing", "max_daily_loss_usd"), -5), (("sizing", "max_exposure_asset_default_usd"), []),
    (("sizing", "order_usd_per_asset"), {"BTC": 0}), (("sizing", "order_usd_per_asset"), {"LTC": 5}),
    (("sizing", "max_exposure_asset_usd"), {"ETH": "5"}), (("sizing", "bogus"), 1),
    (("toggles", "assets"), {"ADA": True}), (("toggles", "assets"), {"BTC": "off"}), (("toggles", "assets"), {"BTC": 1}),
    (("toggles", "timeframes"), {"1h": True}), (("toggles", "slots"), {"nope": False}),
    (("toggles", "slots"), {"a b": True}), (("mode",), "STOP"), (("mode",), "paused"), (("mode",), None),
    (("schema_version",), 2), (("updated_by",), ""), (("halt_reason",), "x" * 2001),
    (("slot_params",), {"nope": {}}), (("slot_params",), {"p-btc-5m": 5}), (("requests", "rollback"), "x"),
    (("requests", "rollback"), [{"id": 0, "strategy": "probe"}]), (("requests", "rollback"), [{"id": 1, "strategy": "nosuch"}]),
    (("requests", "resume"), -1), (("bogus",), 1), (("updated_at",), "yesterday"),
]


def valid_doc(revision: int, order_usd: float, mode: str) -> dict[str, Any]:
    doc = ControlDoc(revision=revision, mode=mode).model_dump(mode="json")
    doc["sizing"].update(order_usd=order_usd, max_exposure_window_usd=1e5, max_exposure_asset_default_usd=1e6,
                         max_exposure_total_usd=1e7)
    return doc


def with_bad(doc: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


# One operation on the file: (kind, payload). The revision of "good"/"bad"/"cut" is relative to the applied one.
op = st.one_of(
    st.tuples(st.just("good"), st.tuples(st.integers(1, 3), st.floats(5, 50), st.sampled_from(["ACTIVE", "PAUSED"]))),
    st.tuples(st.just("bad"), st.tuples(st.integers(1, 3), st.sampled_from(BAD_FIELDS))),
    st.tuples(st.just("cut"), st.floats(0, 0.999)),
    st.tuples(st.just("stale"), st.integers(-3, 0)),
    st.tuples(st.just("random"), json_any | doc_shaped),
    st.tuples(st.just("bytes"), st.binary(max_size=64)),
    st.tuples(st.just("delete"), st.none()),
)


def write_op(path: Path, kind: str, payload: Any, applied: int) -> dict[str, Any] | None:
    """Write the operation's file; the document it must apply (None: it must be refused)."""
    if kind == "delete":
        path.unlink(missing_ok=True)
        return None
    if kind == "bytes":
        path.write_bytes(payload)
        return None
    if kind == "random":
        path.write_text(json.dumps(payload))
        return None
    if kind == "good":
        ahead, usd, mode = payload
        doc = valid_doc(applied + ahead, round(usd, 2), mode)
        path.write_text(json.dumps(doc))
        return doc
    if kind == "bad":
        ahead, (field, value) = payload
        path.write_text(json.dumps(with_bad(valid_doc(applied + ahead, 10, "ACTIVE"), field, value)))
        return None
    if kind == "stale":
        path.write_text(json.dumps(valid_doc(max(1, applied + payload), 33.0, "PAUSED")))
        return None
    text = json.dumps(valid_doc(applied + 1, 10, "ACTIVE"), indent=2)
    path.write_text(text[: int(payload * len(text.rstrip()))])  # "cut": a truncated document
    return None


def _check_refusal(kind: str, payload: Any, watcher: ControlWatcher) -> None:
    assert watcher.refused is not None
    reason = watcher.refused.reason
    assert "allowed: " in reason and f"keeping revision {watcher.applied_revision}" in reason, reason
    if kind == "bad":
        assert ".".join(payload[1][0]) in reason, reason


@FAST
@given(ops=st.lists(op, min_size=1, max_size=10))
def test_watcher_applies_only_valid_newer_documents(ops: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = make_probe_home(Path(tmp) / "h")
        watcher = ControlWatcher(home.control, load_initial(home.control))
        good = watcher.doc
        for kind, payload in ops:
            applied_before = watcher.applied_revision
            expected = write_op(home.control, kind, payload, applied_before)
            got = watcher.poll(0.0)  # never raises
            if kind in ("random", "bytes") and got is not None:  # random input that happens to be valid and newer
                expected = got.model_dump(mode="json")
                assert ControlDoc.model_validate(expected).revision > applied_before
            if expected is None:
                assert got is None and watcher.doc == good and watcher.applied_revision == applied_before
                _check_refusal(kind, payload, watcher)
            else:
                assert got is not None and got.model_dump(mode="json") == ControlDoc.model_validate(expected).model_dump(
                    mode="json")
                assert watcher.refused is None and watcher.applied_revision == expected["revision"]
                good = got


@SLOW
@given(ops=st.lists(op, min_size=1, max_size=6))
def test_engine_keeps_trading_under_the_last_good_document(ops: list[tuple[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = make_probe_home(Path(tmp) / "h")
        home.control.write_text(json.dumps(valid_doc(2, 10.0, "ACTIVE")))
        d = Driver(home)
        try:
            good, ours = d.engine.control.doc, True
            for kind, payload in ops:
                before = d.engine.control.applied_revision
                expected = write_op(home.control, kind, payload, before)
                placed = d.step()  # never raises
                if expected is not None:
                    good, ours = ControlDoc.model_validate(expected), True
                elif kind in ("random", "bytes") and d.engine.control.doc.revision != good.revision:
                    good, ours = d.engine.control.doc, False  # random input that happened to be valid
                assert d.engine.control.doc == good
                control = d.status()["control"]
                assert control["applied_revision"] == good.revision and control["mode"] == good.mode.value
                if expected is None and good.revision == before:  # refused: and status.json says why
                    assert control["refused"] and "allowed: " in control["refused"]["reason"]
                if good.mode.value in ("PAUSED", "HALTED", "REDUCE_ONLY"):
                    assert all(o.side.value == "SELL" for o in placed) and (placed == [] or good.mode.value
                                                                            == "REDUCE_ONLY")
                elif ours:  # ours: generous caps, all on; the good sizing stays in force
                    assert {o.slot_id for o in placed} == {s[0] for s in SLOTS}
                    assert all(o.size * o.price <= good.sizing.order_usd + 1e-9 for o in placed)
                else:
                    assert all(o.size * o.price <= good.sizing.order_usd_for(o.slug[:3].upper()) + 1e-9
                               for o in placed)
        finally:
            d.close()


def test_each_refusal_names_the_field_the_value_and_what_is_allowed(tmp_path: Path) -> None:
    home = make_probe_home(tmp_path / "h")
    watcher = ControlWatcher(home.control, load_initial(home.control))
    for field, value in BAD_FIELDS:
        home.control.write_text(json.dumps(with_bad(valid_doc(5, 10, "ACTIVE"), field, value)))
        assert watcher.poll(0.0) is None
        assert watcher.refused is not None and watcher.refused.revision == 5
        reason = watcher.refused.reason
        named, shown, allowed = reason.split(": ", 2)[0], reason.split(": ", 2)[1], reason.split("; allowed: ", 1)
        assert named.startswith(".".join(field)), reason
        if not isinstance(value, (dict, list)) or value == []:
            assert json.dumps(value)[:20].rstrip('"') in shown, reason
        assert len(allowed) == 2 and len(allowed[1]) > 3, reason
