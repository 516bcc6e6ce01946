"""Parse and validate control.json, and say why not: every refusal names the field, the value
and what is allowed. Shared by the bot's watcher and the writer (ctl, Mission Control), so a
document the writer accepts is exactly a document the bot applies.
"""

from __future__ import annotations

import json
import tomllib
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from nonstop.control.schema import ControlDoc

MAX_BYTES = 1_000_000  # a control document is a few KB; anything near this is a mistake


class ControlRejected(ValueError):
    """A control document (or a change to one) that is refused whole."""

    def __init__(self, field: str, value: str, reason: str, allowed: str) -> None:
        self.field, self.value, self.reason, self.allowed = field, value, reason, allowed
        super().__init__(f"{field}: {value}: {reason}; allowed: {allowed}")


@dataclass(frozen=True)
class Known:
    """What nonstop.toml declares: slot ids and strategy modules a document may name."""

    slots: frozenset[str]
    modules: frozenset[str]


def load_known(config: Path) -> Known | None:
    """Slot ids and modules from nonstop.toml; None when it cannot be read (then names go unchecked)."""
    try:
        raw = tomllib.loads(config.read_text(encoding="utf-8"))
        slots = [s for s in raw.get("slot", []) if isinstance(s, dict)]
        return Known(frozenset(str(s.get("id")) for s in slots), frozenset(str(s.get("module")) for s in slots))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError, TypeError):
        return None


def shown(value: Any) -> str:
    if isinstance(value, dict):
        return "{...}"
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _no_constant(name: str) -> Any:
    raise ControlRejected("control.json", name, "not JSON", "finite numbers only (JSON has no NaN or Infinity)")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ControlRejected(f"key {key!r}", shown(value), "appears twice in one object",
                                  "each key once (JSON readers disagree on which copy wins)")
        out[key] = value
    return out


def parse_json(raw: bytes) -> Any:
    if len(raw) > MAX_BYTES:
        raise ControlRejected("control.json", f"{len(raw)} bytes", "too large", f"at most {MAX_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ControlRejected("control.json", f"byte {exc.start}", "not UTF-8 text", "a UTF-8 JSON object") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ControlRejected("control.json", f"line {exc.lineno} column {exc.colno}", f"not JSON ({exc.msg})",
                              "one JSON object; fix the syntax") from None
    except RecursionError:
        raise ControlRejected("control.json", "deep nesting", "nested too deeply", "a few levels of objects") from None


def validate(data: Any, known: Known | None = None) -> ControlDoc:
    """A ControlDoc, or ControlRejected naming the first bad field."""
    try:
        doc = ControlDoc.model_validate(data)
    except ValidationError as exc:
        raise explain(exc) from None
    except RecursionError:
        raise ControlRejected("document", "deep nesting", "nested too deeply", "a few levels of objects") from None
    if known is not None:
        _check_names(doc, known)
    return doc


def parse(raw: bytes, known: Known | None = None) -> ControlDoc:
    return validate(parse_json(raw), known)


def _names(items: frozenset[str]) -> str:
    listed = sorted(items)
    return ", ".join(listed[:20]) + (f" ... ({len(listed)} in all)" if len(listed) > 20 else "")


def _check_names(doc: ControlDoc, known: Known) -> None:
    where = "the [[slot]] ids of nonstop.toml: "
    for field, ids in (("toggles.slots", doc.toggles.slots), ("slot_params", doc.slot_params)):
        for slot_id in ids:
            if slot_id not in known.slots:
                raise ControlRejected(field, f"key {shown(slot_id)}", "unknown slot", where + _names(known.slots))
    for i, req in enumerate(doc.requests.rollback):
        if req.strategy not in known.modules:
            raise ControlRejected(f"requests.rollback[{i}].strategy", shown(req.strategy), "unknown strategy module",
                                  "the modules of nonstop.toml's slots: " + _names(known.modules))


# -- pydantic errors -> sentences ---------------------------------------------------------------

_REASONS = {
    "extra_forbidden": "unknown key", "missing": "missing", "finite_number": "not a finite number",
    "greater_than": "out of range", "greater_than_equal": "out of range", "less_than": "out of range",
    "less_than_equal": "out of range", "literal_error": "not an allowed value", "enum": "not an allowed value",
    "string_too_long": "too long", "string_too_short": "too short", "too_long": "too many items",
    "too_short": "too few items", "string_pattern_mismatch": "has characters that are not allowed",
}


def _unwrap(tp: Any, meta: list[Any]) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp, *extra = typing.get_args(tp)
            for item in extra:
                meta.extend(item.metadata if isinstance(item, FieldInfo) else [item])
        elif origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(tp) if a is not type(None)]
            tp = options[0] if len(options) == 1 else Any
        else:
            return tp


def _locate(loc: tuple[Any, ...]) -> tuple[Any, list[Any], type[BaseModel] | None]:
    """The type and constraints at `loc`, and the model that holds it (for unknown keys)."""
    tp: Any = ControlDoc
    meta: list[Any] = []
    parent: type[BaseModel] | None = None
    for i, part in enumerate(loc):
        tp = _unwrap(tp, meta)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            parent = tp
            if part not in tp.model_fields:
                return None, [], tp
            field = tp.model_fields[part]
            tp, meta = field.annotation, list(field.metadata)
        elif typing.get_origin(tp) is dict:
            key_tp, value_tp = typing.get_args(tp)
            if i + 1 < len(loc) and loc[i + 1] == "[key]":
                key_meta: list[Any] = []
                return _unwrap(key_tp, key_meta), key_meta, parent
            tp, meta = value_tp, []
        elif typing.get_origin(tp) is list:
            tp, meta = typing.get_args(tp)[0], []
        else:
            return Any, [], parent
    return _unwrap(tp, meta), meta, parent


def _num(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _bounds(meta: list[Any]) -> str:
    found = {}
    for m in meta:
        for cls, sym, attr in ((Gt, ">", "gt"), (Ge, ">=", "ge"), (Lt, "<", "lt"), (Le, "<=", "le")):
            if isinstance(m, cls):
                found[sym] = getattr(m, attr)
    if ">=" in found and found[">="] == found.get("<="):
        return f"= {_num(found['>='])}"
    return " and ".join(f"{sym} {_num(v)}" for sym, v in found.items())


def describe_type(tp: Any, meta: list[Any]) -> str:
    if typing.get_origin(tp) is typing.Literal:
        return ", ".join(str(v) for v in typing.get_args(tp))
    if isinstance(tp, type) and issubclass(tp, Enum):
        return ", ".join(str(m.value) for m in tp)
    if tp is bool:
        return "true or false"
    if tp in (int, float):
        noun = "a whole number" if tp is int else "a number"
        return f"{noun} {_bounds(meta)}".strip()
    if tp is str:
        lo = next((m.min_length for m in meta if isinstance(m, MinLen)), 0)
        hi = next((m.max_length for m in meta if isinstance(m, MaxLen)), None)
        pattern = next((getattr(m, "pattern") for m in meta if getattr(m, "pattern", None)), None)
        text = (f"text of {lo} to {hi} characters" if lo else f"text of at most {hi} characters") if hi else "text"
        return text + (f" matching {pattern}" if pattern else "")
    if tp is datetime:
        return "an ISO 8601 time such as 2026-01-01T00:00:00Z"
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "an object with keys " + ", ".join(tp.model_fields)
    if typing.get_origin(tp) is dict:
        return "an object"
    if typing.get_origin(tp) is list:
        hi = next((m.max_length for m in meta if isinstance(m, MaxLen)), None)
        return "a list" + (f" of at most {hi} items" if hi else "")
    return "any JSON value"


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def explain(exc: ValidationError) -> ControlRejected:
    err = exc.errors(include_url=False)[0]
    loc, kind = tuple(err["loc"]), err["type"]
    msg = str(err["msg"]).removeprefix("Value error, ")
    if kind == "value_error" and "; allowed: " in msg:  # our own validators already say it
        reason, allowed = msg.split("; allowed: ", 1)
        return ControlRejected(_path(loc), shown(err.get("input")), reason, allowed)
    tp, meta, parent = _locate(loc)
    if loc and loc[-1] == "[key]":
        return ControlRejected(_path(loc[:-2]), f"key {shown(loc[-2])}", _REASONS.get(kind, msg),
                               describe_type(tp, meta))
    if kind == "extra_forbidden":
        allowed = ", ".join(parent.model_fields) if parent else "the documented keys"
        return ControlRejected(_path(loc), shown(err.get("input")), "unknown key", allowed)
    reason = _REASONS.get(kind) or ("wrong type" if kind.endswith(("_type", "_parsing")) else msg)
    value = "(absent)" if kind == "missing" else shown(err.get("input"))
    return ControlRejected(_path(loc), value, reason, describe_type(tp, meta))
