"""In-process loading of code the validator already compiled and ran: fresh module objects only.

Never `importlib.reload` in place (a body that raises would leave a half-updated
module): each generation is a new module object under a versioned name. Every change
to `sys.modules` goes through a `Txn`, so a load that fails half-way puts back
exactly what was there.
"""

from __future__ import annotations

import importlib.machinery
import marshal
import os
import sys
from types import ModuleType


class Txn:
    """Bindings made in sys.modules, undoable as one."""

    def __init__(self) -> None:
        self._saved: dict[str, ModuleType | None] = {}

    def bind(self, key: str, module: ModuleType) -> None:
        if key not in self._saved:
            self._saved[key] = sys.modules.get(key)
        sys.modules[key] = module

    def undo(self) -> None:
        for key, old in self._saved.items():
            if old is None:
                sys.modules.pop(key, None)
            else:
                sys.modules[key] = old
        self._saved.clear()


def fresh_module(name: str, versioned: str, folder: str) -> ModuleType:
    path = os.path.join(folder, f"{name}.py")
    module = ModuleType(versioned)
    module.__file__ = path
    module.__spec__ = importlib.machinery.ModuleSpec(versioned, None, origin=path)
    return module


def execute(order: tuple[str, ...], codes: dict[str, bytes], versioned: dict[str, str], folder: str,
            live: dict[str, ModuleType], txn: Txn) -> dict[str, ModuleType]:
    """Run each compiled module body, dependencies first, into a fresh module object.

    While a body runs, `import helper` must find this registry's live helper, or the
    helper's new generation when it is part of the same unit: both are bound under
    their plain names first (another registry in the same process may have bound its own).
    """
    for name, module in live.items():
        if sys.modules.get(name) is not module:
            txn.bind(name, module)
    out: dict[str, ModuleType] = {}
    for name in order:
        code = marshal.loads(codes[name])
        module = fresh_module(name, versioned[name], folder)
        txn.bind(versioned[name], module)
        txn.bind(name, module)
        exec(code, module.__dict__)
        out[name] = module
    return out


def bind(name: str, versioned: str, module: ModuleType) -> None:
    """Make a generation what `import name` gives (and keep it findable under its versioned name)."""
    sys.modules[versioned] = module
    sys.modules[name] = module


def forget(name: str, versioned: str, module: ModuleType) -> None:
    """Drop an old generation's sys.modules entries (only if they are still that module)."""
    if sys.modules.get(versioned) is module:
        del sys.modules[versioned]
    if sys.modules.get(name) is module:
        del sys.modules[name]
