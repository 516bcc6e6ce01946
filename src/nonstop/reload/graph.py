"""The dependents graph of HOME/strategies: which local module imports which.

Pure functions over `imports` (module -> the local modules its source imports). A
change to a helper reloads the helper and every module that imports it, directly or
not, as one unit; two changes whose units overlap become one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def importers(imports: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    reverse: dict[str, set[str]] = {}
    for module, deps in imports.items():
        for dep in deps:
            reverse.setdefault(dep, set()).add(module)
    return reverse


def dependents(imports: Mapping[str, Iterable[str]], roots: Iterable[str]) -> set[str]:
    """The roots plus every module that imports one of them, transitively."""
    reverse = importers(imports)
    out = set(roots)
    stack = list(out)
    while stack:
        for module in reverse.get(stack.pop(), ()):
            if module not in out:
                out.add(module)
                stack.append(module)
    return out


def reachable(imports: Mapping[str, Iterable[str]], roots: Iterable[str]) -> set[str]:
    """The roots plus every local module they import, transitively."""
    out = set(roots)
    stack = list(out)
    while stack:
        for dep in imports.get(stack.pop(), ()):
            if dep not in out:
                out.add(dep)
                stack.append(dep)
    return out


def units(imports: Mapping[str, Iterable[str]], changed: Iterable[str]) -> list[frozenset[str]]:
    """Group changed modules with their dependents; overlapping groups merge (all or nothing together)."""
    groups: list[set[str]] = []
    for module in sorted(changed):
        group = dependents(imports, [module])
        for other in [g for g in groups if g & group]:
            group |= other
            groups.remove(other)
        groups.append(group)
    return [frozenset(g) for g in groups]


def dependency_order(imports: Mapping[str, Iterable[str]], names: Iterable[str]) -> list[str]:
    """`names` with every module after the local modules it imports (ties by name)."""
    wanted = set(names)
    done: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in sorted(imports.get(name, ())):
            if dep in wanted:
                visit(dep)
        done.append(name)

    for name in sorted(wanted):
        visit(name)
    return done
