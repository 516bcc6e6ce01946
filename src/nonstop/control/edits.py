"""Changes to a control document as pure functions (doc dict -> doc dict), for ControlWriter.update.

Shared by `nonstop ctl` and usable by any other client; each refuses a bad request with
ControlRejected naming the field, the value and what is allowed.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from nonstop.control.explain import ControlRejected, shown
from nonstop.control.schema import WRITER_FIELDS, Mode

Change = Callable[[dict[str, Any]], dict[str, Any]]

SWITCH = {"on": True, "off": False, "true": True, "false": False, "1": True, "0": False}


def parse_switch(field: str, text: str) -> bool:
    try:
        return SWITCH[text.strip().lower()]
    except KeyError:
        raise ControlRejected(field, shown(text), "not a switch", "on or off") from None


def parse_value(text: str) -> Any:
    """A JSON value when the text is one (25, true, "x", {"a": 1}); the text itself otherwise."""
    try:
        return json.loads(text, parse_constant=lambda name: text)
    except ValueError:
        return text


def set_mode(mode: Mode, reason: str = "") -> Change:
    def change(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "mode": mode.value, "halt_reason": reason if mode is Mode.HALTED else ""}
    return change


def split_path(doc: dict[str, Any], key: str, names: Iterable[str] = ()) -> list[str]:
    """`slot_params.snipe-btc-5m.margin` -> its parts; a part may itself hold dots when it is an
    existing key or a known name (slot ids may contain dots)."""
    if not key or key.startswith(".") or key.endswith(".") or ".." in key:
        raise ControlRejected("KEY", shown(key), "not a path", "dotted keys such as sizing.order_usd")
    known = set(names)
    parts, out, i = key.split("."), [], 0
    node: Any = doc
    while i < len(parts):
        take = 1
        if isinstance(node, dict):
            for j in range(len(parts), i + 1, -1):  # the longest matching name wins
                name = ".".join(parts[i:j])
                if name in node or name in known:
                    take = j - i
                    break
        name = ".".join(parts[i:i + take])
        out.append(name)
        node = node.get(name) if isinstance(node, dict) else None
        i += take
    return out


def _parent(doc: dict[str, Any], parts: list[str], key: str, create: bool,
            value: Any = None) -> dict[str, Any] | None:
    if parts[0] in WRITER_FIELDS:
        raise ControlRejected(key, shown(value), "set by the writer", "any other field (the writer sets revision "
                                                                      "and updated_* itself)")
    node: Any = doc
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict):
            break
        if part not in node:
            if not create:
                return None
            node[part] = {}
        node = node[part]
        if not isinstance(node, dict):
            where = ".".join(parts[:depth + 1])
            raise ControlRejected(key, shown(node), f"{where} is not an object", "a path that ends at a field, "
                                                                                 "e.g. sizing.order_usd")
    return node


def set_values(pairs: list[tuple[str, Any]], names: Iterable[str] = ()) -> Change:
    """Set each dotted KEY to VALUE; all in one revision."""
    names = list(names)

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        for key, value in pairs:
            parts = split_path(doc, key, names)
            parent = _parent(doc, parts, key, create=True, value=value)
            assert parent is not None
            parent[parts[-1]] = value
        return doc
    return change


def unset_values(keys: list[str], names: Iterable[str] = ()) -> Change:
    """Remove each dotted KEY (an override, a toggle, a slot's params); a field with a default returns to it."""
    names = list(names)

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        for key in keys:
            parts = split_path(doc, key, names)
            parent = _parent(doc, parts, key, create=False)
            if parent is None or parts[-1] not in parent:
                raise ControlRejected(key, "(absent)", "nothing to unset", "a key present in `nonstop ctl show`")
            del parent[parts[-1]]
        return doc
    return change


def compose(*changes: Change) -> Change:
    """Apply changes in order, as one revision."""
    def change(doc: dict[str, Any]) -> dict[str, Any]:
        for step in changes:
            doc = step(doc)
        return doc
    return change


def parse_assignments(items: list[str]) -> list[tuple[str, Any]]:
    out = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ControlRejected("KEY=VALUE", shown(item), "no '='", "KEY=VALUE, e.g. sizing.order_usd=25")
        out.append((key.strip(), parse_value(text)))
    return out
