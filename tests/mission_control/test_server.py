"""`nonstop mission-control` as a real server: token file, loopback rule, busy port, SSE."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path
from typing import Iterator

from nonstop.home.init import init_home
from tests.conftest import run_cli
from tests.mission_control.procs import start_mc, wait_for


def test_token_is_generated_once_into_a_0600_file(home: Path, tmp_path: Path) -> None:
    token_file = home / "mission-control.token"
    assert not token_file.exists()
    mc = start_mc(home, tmp_path / "logs", "mc1")
    try:
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert token_file.read_text().strip() == mc.token and len(mc.token) >= 32
        with mc.client() as c:
            assert c.get("/api/control").status_code == 200
        with mc.client("not-the-token-at-all-000") as c:
            assert c.get("/api/control").status_code == 401
    finally:
        assert mc.proc.stop() == 0
    again = start_mc(home, tmp_path / "logs", "mc2")
    try:
        assert again.token == mc.token  # a restart keeps the token: bookmarks keep working
    finally:
        again.proc.stop()


def test_token_from_the_environment_writes_no_file(home: Path, tmp_path: Path) -> None:
    token = "env-token-abcdefghijklmnop"
    mc = start_mc(home, tmp_path / "logs", env={"NONSTOP_MC_TOKEN": token})
    try:
        assert mc.token == token and not (home / "mission-control.token").exists()
        with mc.client() as c:
            assert c.get("/api/status").status_code == 200
    finally:
        mc.proc.stop()


def test_non_loopback_host_needs_allow_remote(home: Path) -> None:
    proc = run_cli("mission-control", "--home", str(home), "--host", "0.0.0.0", "--port", "0", timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--host" in lines[0] and "--allow-remote" in lines[0]
    assert not (home / "mission-control.token").exists()


def test_busy_port_is_one_line(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = run_cli("mission-control", "--home", str(home), "--port", str(port), timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and f"127.0.0.1:{port}" in proc.stderr


def test_a_folder_without_a_home_is_one_line(tmp_path: Path) -> None:
    proc = run_cli("mission-control", "--home", str(tmp_path), "--port", "0", timeout=60)
    assert proc.returncode == 2 and "nonstop init" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def read_events(lines: Iterator[str], want: set[str], until: dict[str, object] | None = None) -> dict[str, list]:
    """Collect SSE events from `lines` until each kind in `want` was seen (and a control event matched `until`)."""
    seen: dict[str, list] = {}
    event = None
    for line in lines:
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event:
            seen.setdefault(event, []).append(json.loads(line.split(":", 1)[1]))
        if want <= set(seen) and (until is None or any(
                all(e.get(k) == v for k, v in until.items()) for e in seen.get("control", []))):
            return seen
    raise AssertionError(f"stream ended; saw {sorted(seen)}")


def test_events_stream_status_control_audit_and_health(home: Path, tmp_path: Path) -> None:
    mc = start_mc(home, tmp_path / "logs")
    try:
        with mc.client() as c, c.stream("GET", "/api/events", timeout=30) as res:
            assert res.status_code == 200 and res.headers["content-type"].startswith("text/event-stream")
            lines = res.iter_lines()
            first = read_events(lines, {"status", "control", "audit", "health"})
            assert first["status"][0]["heartbeat"]["cycle"] == 2400
            assert first["control"][0]["mode"] == "ACTIVE" and first["audit"][0] == []
            assert first["health"][0]["bot"] in ("late", "down")
            with mc.client() as writer:
                assert writer.post("/api/pause").status_code == 200
            pushed = read_events(lines, {"control"}, until={"mode": "PAUSED"})
            assert pushed["control"][-1]["revision"] == 2
        with mc.client() as c:
            assert c.get("/api/events", headers={"Authorization": "Bearer nope-nope-nope-nope"}).status_code == 401
    finally:
        assert mc.proc.stop() == 0  # an open stream does not hold up a clean shutdown


def test_mission_control_never_needs_the_bot(tmp_path: Path) -> None:
    root = tmp_path / "fresh"
    init_home(root)
    mc = start_mc(root, tmp_path / "logs")
    try:
        with mc.client() as c:
            assert c.get("/healthz").json()["bot"] == "no status"
            assert c.get("/api/status").status_code == 503
            assert c.post("/api/pause").status_code == 200  # the bot picks it up whenever it starts
        wait_for(lambda: json.loads((root / "control.json").read_text())["mode"] == "PAUSED", 5, "control.json")
    finally:
        mc.proc.stop()
