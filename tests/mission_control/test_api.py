"""Every endpoint through HTTP (FastAPI's TestClient over httpx), on a home the real bot ran in."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nonstop.control.schema import ControlDoc
from nonstop.status.model import StatusDoc
from tests.mission_control.conftest import TOKEN

GUARDED = [
    ("GET", "/api/status", None), ("GET", "/api/control", None), ("PUT", "/api/control", {}),
    ("POST", "/api/pause", None), ("POST", "/api/resume", None), ("POST", "/api/halt", None),
    ("PUT", "/api/sizing", {"order_usd": 5}), ("PUT", "/api/assets/BTC", {"enabled": False}),
    ("POST", "/api/strategies/momentum/rollback", None), ("GET", "/api/audit", None),
    ("GET", "/api/trades", None), ("GET", "/api/events", None), ("GET", "/metrics", None),
]


def control(home: Path) -> dict:
    return json.loads((home / "control.json").read_text())


def audit(home: Path) -> list[dict]:
    path = home / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.parametrize("method,path,body", GUARDED)
@pytest.mark.parametrize("auth", [None, "Bearer wrong-token-0123456789", "Basic " + TOKEN, f"Bearer {TOKEN}x"])
def test_every_guarded_endpoint_is_401_without_the_right_token(client: TestClient, home: Path, method: str,
                                                               path: str, body: dict | None, auth: str | None) -> None:
    before = (home / "control.json").read_bytes()
    headers = {"Authorization": auth} if auth else {}
    del client.headers["Authorization"]
    res = client.request(method, path, json=body, headers=headers)
    assert res.status_code == 401, res.text
    assert res.headers["www-authenticate"].startswith("Bearer")
    assert (home / "control.json").read_bytes() == before
    assert not (home / "audit.jsonl").exists()


def test_healthz_and_page_need_no_token_and_no_response_sets_a_cookie(client: TestClient) -> None:
    del client.headers["Authorization"]
    for path in ("/healthz", "/", "/static/app.js", "/openapi.json"):
        res = client.get(path)
        assert res.status_code == 200, path
        assert "set-cookie" not in res.headers
    page = client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_status_is_the_bots_status_json(client: TestClient, home: Path) -> None:
    res = client.get("/api/status")
    assert res.status_code == 200
    assert res.json() == json.loads((home / "status.json").read_text())
    doc = StatusDoc.model_validate(res.json())
    assert doc.heartbeat.cycle == 2400 and len(doc.slots) == 16


def test_status_is_503_before_the_bot_wrote_one(client: TestClient, home: Path) -> None:
    (home / "status.json").unlink()
    res = client.get("/api/status")
    assert res.status_code == 503
    assert "nonstop run --home" in res.json()["detail"]


def test_get_control_carries_its_revision_as_etag(client: TestClient, home: Path) -> None:
    res = client.get("/api/control")
    assert res.status_code == 200
    assert res.json()["revision"] == control(home)["revision"] == 1
    assert res.headers["etag"] == '"1"'


def test_put_control_replaces_the_document_with_if_match(client: TestClient, home: Path) -> None:
    doc = client.get("/api/control").json()
    doc["mode"] = "REDUCE_ONLY"
    doc["sizing"]["order_usd"] = 7.5
    res = client.put("/api/control", json=doc, headers={"If-Match": '"1"', "X-Actor": "alice"})
    assert res.status_code == 200, res.text
    assert res.json()["revision"] == 2 and res.headers["etag"] == '"2"'
    on_disk = control(home)
    assert on_disk["mode"] == "REDUCE_ONLY" and on_disk["sizing"]["order_usd"] == 7.5
    assert on_disk["updated_by"] == "mission-control/alice"
    entry = audit(home)[-1]
    assert entry["actor"] == "mission-control/alice" and (entry["old_revision"], entry["new_revision"]) == (1, 2)
    assert {"path": "mode", "old": "ACTIVE", "new": "REDUCE_ONLY"} in entry["diff"]


def test_put_control_is_412_on_a_stale_revision_and_writes_nothing(client: TestClient, home: Path) -> None:
    doc = client.get("/api/control").json()
    assert client.post("/api/pause").status_code == 200  # someone else moved it to revision 2
    doc["mode"] = "HALTED"
    res = client.put("/api/control", json=doc, headers={"If-Match": '"1"'})
    assert res.status_code == 412
    assert "revision 2" in res.json()["detail"] and res.headers["etag"] == '"2"'
    assert control(home)["mode"] == "PAUSED" and len(audit(home)) == 1


def test_put_control_needs_if_match(client: TestClient, home: Path) -> None:
    doc = client.get("/api/control").json()
    assert client.put("/api/control", json=doc).status_code == 428
    assert client.put("/api/control", json=doc, headers={"If-Match": "yesterday"}).status_code == 400
    assert control(home)["revision"] == 1


@pytest.mark.parametrize("change,field", [
    ({"mode": "SLEEPY"}, "mode"),
    ({"sizing": {"order_usd": -3}}, "order_usd"),
    ({"toggles": {"assets": {"DOGE": "off"}}}, "DOGE"),
    ({"surprise": 1}, "surprise"),
    ({"toggles": {"slots": {"no-such-slot": False}}}, "no-such-slot"),
])
def test_put_control_is_422_on_a_bad_body(client: TestClient, home: Path, change: dict, field: str) -> None:
    doc = client.get("/api/control").json()
    for key, value in change.items():
        doc[key] = {**doc[key], **value} if isinstance(doc.get(key), dict) and isinstance(value, dict) else value
    res = client.put("/api/control", json=doc, headers={"If-Match": "1"})
    assert res.status_code == 422, res.text
    assert field in res.json()["detail"]
    assert control(home)["revision"] == 1


def test_pause_resume_halt_write_the_mode(client: TestClient, home: Path) -> None:
    assert client.post("/api/pause").json()["control"]["mode"] == "PAUSED"
    assert control(home)["mode"] == "PAUSED"
    res = client.post("/api/halt", json={"reason": "venue looks broken"}, headers={"X-Actor": "bob"})
    assert res.status_code == 200
    assert control(home)["mode"] == "HALTED" and control(home)["halt_reason"] == "venue looks broken"
    assert client.post("/api/resume", headers={"If-Match": '"3"'}).status_code == 200
    assert control(home)["mode"] == "ACTIVE" and control(home)["halt_reason"] == ""
    assert [e["actor"] for e in audit(home)] == ["mission-control", "mission-control/bob", "mission-control"]


def test_mode_writes_refuse_stale_if_match_and_bad_bodies(client: TestClient, home: Path) -> None:
    assert client.post("/api/pause", headers={"If-Match": '"9"'}).status_code == 412
    assert client.post("/api/halt", json={"reason": 5}).status_code == 422
    assert client.post("/api/pause", json={"why": "x"}).status_code == 422
    assert client.post("/api/pause", headers={"X-Actor": "<script>"}).status_code == 422
    assert control(home)["revision"] == 1 and audit(home) == []


def test_sizing(client: TestClient, home: Path) -> None:
    res = client.put("/api/sizing", json={"order_usd": 4, "max_daily_loss_usd": 50})
    assert res.status_code == 200
    sizing = control(home)["sizing"]
    assert sizing["order_usd"] == 4 and sizing["max_daily_loss_usd"] == 50
    assert sizing["max_exposure_total_usd"] == 2000  # fields not given stay
    bad = client.put("/api/sizing", json={"max_exposure_total_usd": 0})
    assert bad.status_code == 422 and "max_exposure_total_usd" in bad.json()["detail"]
    assert client.put("/api/sizing", json={"order_usd": "lots"}).status_code == 422
    assert client.put("/api/sizing", json={"leverage": 10}).status_code == 422
    assert client.put("/api/sizing", json={}).status_code == 422
    assert client.put("/api/sizing", json={"order_usd": 3}, headers={"If-Match": "1"}).status_code == 412
    assert control(home)["revision"] == 2


def test_asset_toggle(client: TestClient, home: Path) -> None:
    assert client.put("/api/assets/DOGE", json={"enabled": False}).status_code == 200
    assert control(home)["toggles"]["assets"]["DOGE"] is False
    assert client.put("/api/assets/doge", json={"enabled": True}).status_code == 200
    assert control(home)["toggles"]["assets"]["DOGE"] is True
    res = client.put("/api/assets/LUNA", json={"enabled": False})
    assert res.status_code == 404 and "BTC" in res.json()["detail"]
    assert client.put("/api/assets/BTC", json={"enabled": "maybe"}).status_code == 422
    assert client.put("/api/assets/BTC", json={}).status_code == 422
    assert control(home)["revision"] == 3


def test_rollback_request(client: TestClient, home: Path) -> None:
    res = client.post("/api/strategies/momentum/rollback", json={"to_generation": 1}, headers={"X-Actor": "carol"})
    assert res.status_code == 200
    request = control(home)["requests"]["rollback"][-1]
    assert request["strategy"] == "momentum" and request["to_generation"] == 1
    assert audit(home)[-1]["actor"] == "mission-control/carol"
    assert client.post("/api/strategies/momentum/rollback").status_code == 200
    assert control(home)["requests"]["rollback"][-1]["to_generation"] is None
    assert client.post("/api/strategies/nope/rollback").status_code == 404
    assert client.post("/api/strategies/momentum/rollback", json={"to_generation": 0}).status_code == 422


def test_audit_tail(client: TestClient) -> None:
    assert client.get("/api/audit").json() == []
    for _ in range(3):
        client.post("/api/pause")
        client.post("/api/resume")
    tail = client.get("/api/audit", params={"limit": 2}).json()
    assert [e["new_revision"] for e in tail] == [6, 7]
    assert client.get("/api/audit", params={"limit": 0}).status_code == 422
    assert client.get("/api/audit", params={"limit": "all"}).status_code == 422


def test_trades(client: TestClient, home: Path) -> None:
    res = client.get("/api/trades", params={"limit": 5})
    assert res.status_code == 200
    body = res.json()
    assert len(body["trades"]) == 5
    if body["source"] == "status.json":
        recent = json.loads((home / "status.json").read_text())["recent_trades"]
        assert body["trades"] == recent[::-1][:5]  # newest first
    else:
        assert body["source"] == "journal"
    closed = [t["closed_at"] for t in body["trades"]]
    assert closed == sorted(closed, reverse=True)
    assert client.get("/api/trades", params={"limit": 5000}).status_code == 422


def set_heartbeat_age(home: Path, age: float) -> None:
    doc = json.loads((home / "status.json").read_text())
    doc["heartbeat"]["wall"] = time.time() - age
    (home / "status.json").write_text(json.dumps(doc))


@pytest.mark.parametrize("age,state", [(0.0, "up"), (2.0, "late"), (3.5, "down"), (600.0, "down")])
def test_healthz_classifies_the_heartbeat_age_in_cycle_periods(client: TestClient, home: Path,
                                                               age: float, state: str) -> None:
    set_heartbeat_age(home, age)  # one heartbeat seen: its period (1 s) is taken as wall time
    res = client.get("/healthz")
    assert res.status_code == 200
    body = res.json()
    assert body["mission_control"] == "up" and body["bot"] == state
    assert body["cycle"] == 2400 and body["down_after_s"] == pytest.approx(3.0)
    assert body["heartbeat_age_s"] == pytest.approx(age, abs=0.5)


def test_metrics_are_prometheus_text_from_status(client: TestClient, home: Path) -> None:
    client.post("/api/pause")
    res = client.get("/metrics")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/plain")
    text = res.text
    status = json.loads((home / "status.json").read_text())
    assert f"nonstop_cycles_total {float(status['heartbeat']['cycle'])}" in text
    assert f"nonstop_cycle_time_ms {status['heartbeat']['cycle_ms']}" in text
    assert f"nonstop_realized_pnl_usd {status['totals']['realized_pnl']}" in text
    assert 'nonstop_bot_health{state="no status"} 0.0' in text
    assert 'nonstop_strategy_generation{strategy="momentum"} 1.0' in text
    assert "nonstop_heartbeat_age_seconds" in text and "nonstop_rate_limit" in text
    assert 'mission_control_control_writes_total{endpoint="/api/pause",result="ok"} 1.0' in text


def test_a_bad_control_json_on_disk_is_409_not_the_callers_fault(client: TestClient, home: Path) -> None:
    (home / "control.json").write_text('{"revision": 3, "mode": "NAPPING"}')
    res = client.get("/api/control")
    assert res.status_code == 409 and "restore" in res.json()["detail"]
    assert client.post("/api/pause").status_code == 409
    assert json.loads((home / "control.json").read_text())["mode"] == "NAPPING"


def test_openapi_documents_every_endpoint(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for _, path, _ in GUARDED:
        assert path.replace("BTC", "{asset}").replace("momentum", "{name}") in paths
    assert "/healthz" in paths
    assert ControlDoc.__name__ in json.dumps(client.get("/openapi.json").json()["components"])
