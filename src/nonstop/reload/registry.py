"""The strategy registry: modules of HOME/strategies as generations, resolved each cycle.

The engine never keeps a strategy class or instance across cycles itself: it
asks `instance(slot, params)` every cycle, which looks `module.ClassName` up in
the live generation and reuses an instance only while (generation, params) hold.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from nonstop.errors import UserError
from nonstop.home.config import SlotConfig
from nonstop.home.paths import Home


@dataclass
class Generation:
    module: str
    number: int
    sha256: str
    loaded_at: float
    code: ModuleType


@dataclass
class ModuleState:
    name: str
    live: Generation
    history: list[Generation] = field(default_factory=list)
    last_failure: dict[str, Any] | None = None


def _load(home: Home, name: str, source: bytes, number: int) -> ModuleType:
    """Execute `source` as a fresh module object under a versioned name."""
    path = home.strategies / f"{name}.py"
    versioned = f"nonstop_strategies.{name}__g{number}"
    spec = importlib.util.spec_from_file_location(versioned, path)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    code = compile(source, str(path), "exec")
    exec(code, module.__dict__)
    return module


class StrategyRegistry:
    def __init__(self, home: Home, slots: list[SlotConfig], wall=time.time) -> None:  # type: ignore[no-untyped-def]
        self.home = home
        self.slots = slots
        self._wall = wall
        self.modules: dict[str, ModuleState] = {}
        self._instances: dict[str, tuple[int, str, Any]] = {}

    def load_all(self) -> None:
        for name in sorted({s.module for s in self.slots}):
            path = self.home.strategies / f"{name}.py"
            source = path.read_bytes()
            try:
                module = _load(self.home, name, source, 1)
            except Exception as exc:  # a broken file at start is the person's to fix
                raise UserError(f"{path}: cannot load: {type(exc).__name__}: {exc}") from None
            gen = Generation(name, 1, hashlib.sha256(source).hexdigest(), self._wall(), module)
            self.modules[name] = ModuleState(name, gen, [gen])
        for slot in self.slots:
            if not hasattr(self.modules[slot.module].live.code, slot.class_name):
                raise UserError(f"slot {slot.id!r}: {slot.module}.py has no class {slot.class_name!r}; "
                                f"fix `class` in nonstop.toml")

    def reload_step(self, now: float, busy_slots: set[str], memory: Any) -> None:
        """The safe point. Hot reload lands here (see the reload issue)."""

    def instance(self, slot: SlotConfig, params: dict[str, Any]) -> Any:
        gen = self.modules[slot.module].live
        key = json.dumps(params, sort_keys=True, default=str)
        cached = self._instances.get(slot.id)
        if cached is not None and cached[0] == gen.number and cached[1] == key:
            return cached[2]
        cls = getattr(gen.code, slot.class_name)
        inst = cls(dict(params))
        self._instances[slot.id] = (gen.number, key, inst)
        return inst

    def generation(self, module: str) -> int:
        return self.modules[module].live.number

    def state_version(self, module: str) -> int:
        return int(getattr(self.modules[module].live.code, "STATE_VERSION", 0))

    def decide_failed(self, slot: SlotConfig, exc: BaseException) -> None:
        tb = traceback.extract_tb(exc.__traceback__)
        frame = tb[-1] if tb else None
        self.modules[slot.module].last_failure = {
            "file": frame.filename if frame else "", "line": frame.lineno if frame else 0,
            "message": f"{type(exc).__name__}: {exc}", "time": self._wall(), "phase": "decide"}

    def decide_ok(self, slot: SlotConfig) -> None:
        pass

    def apply_requests(self, control: Any) -> None:
        pass

    def status(self) -> list[dict[str, Any]]:
        out = []
        for name, st in sorted(self.modules.items()):
            out.append({"name": name, "module": f"{name}.py", "generation": st.live.number,
                        "hash": st.live.sha256, "loaded_at": st.live.loaded_at, "file_hash": st.live.sha256,
                        "differs_from_file": False, "pending": [], "last_failure": st.last_failure,
                        "history": [{"generation": g.number, "hash": g.sha256, "loaded_at": g.loaded_at}
                                    for g in st.history[-10:]]})
        return out

    def close(self) -> None:
        for st in self.modules.values():
            for g in st.history:
                sys.modules.pop(g.code.__name__, None)
