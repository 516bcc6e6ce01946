"""20 concurrent `nonstop ctl` processes x 50 edits each: no lost update, no torn read.

Each process runs `nonstop ctl batch`, which makes each of its 50 lines a separate edit (its
own lock, read, compare-and-swap, write and audit line), so the processes interleave edit by
edit. Process i sets slot_params.snipe-btc-5m.w<i> to 0, 1, ..., 49: an update lost to a
stale read-modify-write would leave some w<i> below 49, break the audit's revision chain, or
make the audit's diffs replay to something other than the final document.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

from nonstop.control.audit import json_diff
from nonstop.control.explain import parse
from nonstop.control.writer import ControlWriter, read_audit
from nonstop.home.paths import Home
from tests.conftest import NONSTOP

PROCESSES, EDITS = 20, 50


class Poller(threading.Thread):
    """Reads control.json as fast as it can; every read must be a whole, valid document."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.reads = 0
        self.revisions: list[int] = []
        self.torn: list[str] = []

    def run(self) -> None:
        while not self.stop.is_set():
            raw = self.path.read_bytes()
            try:
                doc = parse(raw)
            except Exception as exc:  # noqa: BLE001
                self.torn.append(f"{exc}: {raw[:80]!r}")
                continue
            self.reads += 1
            if not self.revisions or self.revisions[-1] != doc.revision:
                self.revisions.append(doc.revision)
            time.sleep(0.0002)  # a poller, not a spinner: leave the writers some CPU


def test_twenty_processes_fifty_edits_each(home: Path, tmp_path: Path) -> None:
    h = Home(home)
    initial = ControlWriter(h).read()
    start_content = initial.content()
    scripts = []
    for i in range(PROCESSES):
        script = tmp_path / f"w{i}.ctl"
        script.write_text("".join(f"set slot_params.snipe-btc-5m.w{i}={j}\n" for j in range(EDITS)))
        scripts.append(script)
    poller = Poller(h.control)
    poller.start()
    procs = [subprocess.Popen([*NONSTOP, "ctl", "--home", str(home), "--actor", f"writer{i}", "batch", str(s)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, s in enumerate(scripts)]
    outputs = [p.communicate(timeout=240) for p in procs]
    poller.stop.set()
    poller.join(timeout=10)
    for p, (out, err) in zip(procs, outputs):
        assert p.returncode == 0, err
        assert out.count(" → ") >= EDITS and f"batch: {EDITS} commands" in out

    final = ControlWriter(h).read()
    total = PROCESSES * EDITS
    assert final.revision == initial.revision + total
    assert final.slot_params["snipe-btc-5m"] == {f"w{i}": EDITS - 1 for i in range(PROCESSES)}

    entries = read_audit(h)
    assert len(entries) == total
    assert [(e["old_revision"], e["new_revision"]) for e in entries] == [
        (r, r + 1) for r in range(initial.revision, initial.revision + total)]
    assert sorted(e["actor"] for e in entries) == sorted(f"writer{i}" for i in range(PROCESSES) for _ in range(EDITS))
    replayed = start_content
    for e in entries:  # each line is exactly one process's one step, and they chain to the final document
        [d] = e["diff"]
        replayed = _apply(replayed, d)
    assert json_diff(replayed, final.content()) == []

    assert poller.torn == []
    assert poller.reads > 0 and poller.revisions == sorted(poller.revisions)
    print(f"poller: {poller.reads} whole reads, {len(poller.revisions)} distinct revisions seen")


def _apply(doc: dict, d: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    parts = d["path"].split(".")
    node = doc
    for part in parts[:-1]:
        node = node[part]
    assert node.get(parts[-1]) == d["old"]
    node[parts[-1]] = d["new"]
    return doc
