"""What a backtest runs: the source of market data, and the parameter combinations of a sweep.

`--param KEY=a,b,c` names a strategy parameter, `name` (every slot whose strategy uses it) or
`module.name` (only the slots of that strategy module). A parameter is known when a slot sets it
in nonstop.toml or the strategy's source reads it (`params.get("name"...)` / `params["name"]`).
Several --param options make the cartesian product: 3 x 3 values are 9 runs.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nonstop.errors import UserError
from nonstop.home.config import HomeConfig
from nonstop.home.paths import Home

_READS = re.compile(r"""params(?:\.get\(\s*|\[\s*)["']([A-Za-z_][A-Za-z0-9_]*)["']""")
_KEY = re.compile(r"^(?:([A-Za-z_][A-Za-z0-9_]*)\.)?([A-Za-z_][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class Source:
    data: tuple[str, ...] = ()  # replay files, or
    sim_days: float | None = None  # simulated days on the embedded sim
    seed: int | None = None

    def describe(self) -> dict[str, Any]:
        if self.data:
            return {"kind": "replay", "data": list(self.data)}
        return {"kind": "sim", "days": self.sim_days, "seed": self.seed}


@dataclass(frozen=True)
class RunSpec:
    home: str
    source: Source
    params: dict[str, Any] = field(default_factory=dict)  # KEY -> value, as given on the command line
    slot_params: dict[str, dict[str, Any]] = field(default_factory=dict)  # slot id -> overrides
    label: str = ""
    index: int = 0


def known_params(home: Home, config: HomeConfig) -> dict[str, set[str]]:
    """module -> parameter names its slots set or its source reads."""
    known: dict[str, set[str]] = {}
    for slot in config.slots:
        names = known.setdefault(slot.module, set())
        names.update(slot.params)
        path = home.strategies / f"{slot.module}.py"
        if path.exists():
            names.update(_READS.findall(path.read_text(encoding="utf-8", errors="replace")))
    return known


def _value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_params(options: list[str], home: Home, config: HomeConfig) -> list[tuple[str, list[Any]]]:
    """[(KEY, values)] in command-line order; UserError naming the option and the fix otherwise."""
    known = known_params(home, config)
    every = sorted({n for names in known.values() for n in names})
    parsed: list[tuple[str, list[Any]]] = []
    for option in options:
        key, sep, raw = option.partition("=")
        key = key.strip()
        if not sep:
            raise UserError(f"--param {option!r}: write KEY=a,b,c, e.g. --param margin=0.01,0.02,0.03")
        match = _KEY.match(key)
        if match is None:
            raise UserError(f"--param {option!r}: {key!r} is not a parameter name; use name or module.name")
        module, name = match.groups()
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if not items:
            raise UserError(f"--param {key}=: no values, the sweep would be empty; give at least one, "
                            f"e.g. --param {key}=0.01,0.02")
        if module is not None and module not in known:
            raise UserError(f"--param {key}: no slot runs a strategy module {module!r}; "
                            f"modules in nonstop.toml: {', '.join(sorted(known))}")
        modules = [module] if module is not None else sorted(known)
        if not any(name in known[m] for m in modules):
            raise UserError(f"--param {key}: unknown parameter {name!r}; known: {', '.join(every) or 'none'}")
        if any(k == key for k, _ in parsed):
            raise UserError(f"--param {key}: given twice; list all its values in one option")
        parsed.append((key, [_value(item) for item in items]))
    return parsed


def combinations(parsed: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    if not parsed:
        return [{}]
    keys = [k for k, _ in parsed]
    return [dict(zip(keys, values)) for values in itertools.product(*(v for _, v in parsed))]


def slot_overrides(combo: dict[str, Any], home: Home, config: HomeConfig) -> dict[str, dict[str, Any]]:
    """The control.json `slot_params` that apply one combination."""
    known = known_params(home, config)
    out: dict[str, dict[str, Any]] = {}
    for key, value in combo.items():
        module, _, name = key.rpartition(".")
        for slot in config.slots:
            if (not module or slot.module == module) and name in known.get(slot.module, ()):
                out.setdefault(slot.id, {})[name] = value
    return out


def label(combo: dict[str, Any]) -> str:
    """A folder name for a combination: margin-0.01_arm_seconds-30."""
    if not combo:
        return "run"
    text = "_".join(f"{k}-{v}" for k, v in combo.items())
    return re.sub(r"[^A-Za-z0-9_.=-]", "-", text)[:120]


def check_source(data: list[str] | None, sim_days: float | None, seed: int | None, config: HomeConfig) -> Source:
    if data and sim_days is not None:
        raise UserError("--data and --sim-days: give one of them, not both")
    if not data and sim_days is None:
        raise UserError("give --data FILE... (recorded market data) or --sim-days N (the embedded simulator)")
    if data:
        from nonstop.venues.replay import peek_header

        for path in data:
            peek_header(path)
        return Source(data=tuple(str(Path(p).resolve()) for p in data))
    assert sim_days is not None
    if not 0 < sim_days <= 3650:
        raise UserError(f"--sim-days: {sim_days:g} is out of range; give a number of days > 0 and <= 3650")
    return Source(sim_days=sim_days, seed=config.seed if seed is None else seed)
