"""The Context a slot's decide() reads, built cheaply enough for every slot every cycle.

Building a frozen dataclass through its generated `__init__` costs ~0.1 µs a field, and a
Context has sixteen, some of them costly (the TWAP walks a minute of oracle samples, the
indicators build a dict). Most decides read a handful of fields and return, so:

- `LazyContext` computes `twap`, `indicators`, `up_book`, `down_book` and `position` on their
  first read (and only then), from the engine's state of this cycle;
- the other fields are filled through the slot descriptors (`_slot_setters`), a third of the cost;
- a slot's Context of the previous cycle is refilled in place when nothing but the engine holds
  it any more (its reference count), as CPython's own `zip` reuses its result tuple.

Every read during decide() and the egress gate sees what an eagerly built Context would hold:
the state the lazy fields come from does not change before the slot is routed, and `settle`
fills what is left before the gate routes intents. A strategy that keeps its Context (outside
the contract, but possible) finds it settled when decide() returns (`run_decide` compares its
reference count before and after) and gets a fresh one next cycle; a kept window is not reused
either: what a strategy kept never changes under it.
"""

from __future__ import annotations

import sys
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping

from nonstop.engine.indicators import IndicatorEngine
from nonstop.engine.market_data import MarketData
from nonstop.engine.memory import MemoryStore
from nonstop.markets import MarketInfo
from nonstop.state.positions import PositionManager
from nonstop.strategy import Context, PositionView, WindowView
from nonstop.venues.base import Book

if TYPE_CHECKING:
    from nonstop.engine.decide import SlotRuntime


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Any, ...]:
    """The slot descriptors' setters of a frozen slotted dataclass: filling an instance through them
    skips the generated __init__ (one `object.__setattr__` per field)."""
    return tuple(cls.__dict__[name].__set__ for name in names)


_W_SET = _slot_setters(WindowView, ("slug", "start", "end", "seconds_left", "price_to_beat", "armed", "fired"))
_NO_POSITION = PositionView()


def _window(slug: str, start: int, end: int, left: float, ptb: float | None, armed: bool, fired: bool,
            _new: Any = object.__new__, _s: tuple[Any, ...] = _W_SET) -> WindowView:
    w = _new(WindowView)
    _s[0](w, slug), _s[1](w, start), _s[2](w, end), _s[3](w, left), _s[4](w, ptb), _s[5](w, armed), _s[6](w, fired)
    return w


class LazyContext(Context):
    """A Context whose costlier fields are filled on their first read (see the module's notes).

    A field left unset in the slots makes Python call `__getattr__`, which fills it; later reads
    are plain slot reads. `dataclasses.replace`, `repr`, `==` among LazyContexts and pickling read
    every field, so they see a whole Context.
    """

    __slots__ = ("_src", "_filled")
    _src: tuple[Any, ...]  # (market, data, indicators, positions, slot id): where the lazy fields come from
    _filled: list[str]  # lazy fields filled since the Context was (re)built

    def __getattr__(self, name: str) -> Any:
        fill = _LAZY.get(name)
        if fill is None:
            raise AttributeError(f"'Context' object has no attribute {name!r}")
        value = fill(self, *self._src)
        _C_SET_BY_NAME[name](self, value)
        self._filled.append(name)
        return value

    def __repr__(self) -> str:  # what a strategy prints is a Context
        return "Context" + super().__repr__().removeprefix(type(self).__qualname__)


def settle(ctx: Context) -> None:
    """Fill every lazy field not read yet: before the gate routes intents (the state moves then)."""
    if type(ctx) is LazyContext:
        for name in _LAZY:
            getattr(ctx, name)


def _twap(ctx: Context, m: MarketInfo, data: MarketData, *_: Any) -> float | None:
    return data.twap(ctx.asset, ctx.now, m.twap_lookback_s)


def _indicators(ctx: Context, m: MarketInfo, data: MarketData, ind: IndicatorEngine, *_: Any) -> Mapping[str, float]:
    return ind.values(ctx.asset, ctx.timeframe, m.start, ctx.oracle)


def _up_book(ctx: Context, m: MarketInfo, data: MarketData, *_: Any) -> Book | None:
    return data.books.get(m.up_token)


def _down_book(ctx: Context, m: MarketInfo, data: MarketData, *_: Any) -> Book | None:
    return data.books.get(m.down_token)


def _position(ctx: Context, m: MarketInfo, data: MarketData, ind: IndicatorEngine, pm: PositionManager,
              slot_id: str) -> PositionView:
    pos = pm.position(slot_id, m.slug)
    if pos is None:
        return _NO_POSITION
    return PositionView(pos.up_shares, pos.down_shares, pos.cost, len(pm.open_orders(slot_id)))


_LAZY: dict[str, Callable[..., Any]] = {"twap": _twap, "indicators": _indicators, "up_book": _up_book,
                                        "down_book": _down_book, "position": _position}
_C_NAMES = ("now", "slot_id", "asset", "timeframe", "window", "spot", "oracle", "memory", "params", "fee_rate",
            "fee_exponent")
_C_SET = _slot_setters(Context, _C_NAMES)
_C_SET_BY_NAME = {name: Context.__dict__[name].__set__ for name in Context.__dataclass_fields__}
_C_DEL_BY_NAME = {name: Context.__dict__[name].__delete__ for name in _LAZY}
_SRC_SET = LazyContext.__dict__["_src"].__set__
_FILLED_SET = LazyContext.__dict__["_filled"].__set__


class _Holder:
    __slots__ = ("obj",)
    obj: object


def _one_holder(holder: _Holder, _refs: Callable[[Any], int] = sys.getrefcount) -> int:
    return _refs(holder.obj)  # the shape of build_context's checks: an attribute straight into the count


# The count build_context sees for an object that one attribute holds, measured the way it counts
# (interpreters differ in the counts they report for arguments); one above it is one holder more.
_held = _Holder()
_held.obj = object()
_ONE_HOLDER = _one_holder(_held)
del _held


def build_context(now: float, rt: SlotRuntime, market: MarketInfo, data: MarketData, ind: IndicatorEngine,
                  positions: PositionManager, memory: MemoryStore, params: dict[str, Any],
                  state_version: int, _new: Any = object.__new__, _s: tuple[Any, ...] = _C_SET,
                  _set_now: Any = _C_SET[0], _set_spot: Any = _C_SET[5], _set_oracle: Any = _C_SET[6],
                  _set_left: Any = _W_SET[3], _set_armed: Any = _W_SET[5], _set_fired: Any = _W_SET[6],
                  _refs: Callable[[Any], int] = sys.getrefcount) -> Context:
    cfg = rt.config
    asset, slug = cfg.asset, market.slug
    # The window's opening spot is noted when a slot first looks at the window (as when every
    # Context computed its indicators), whether or not this strategy reads them; once noted, it
    # stays until the window is left (all slots of an asset and timeframe leave it together).
    if rt.noted is not market and ind.note_window(asset, cfg.timeframe, market.start):
        rt.noted = market
    armed = slug in rt.armed
    if rt.fired_in == slug:  # a slot that fired in a window stays fired there
        fired = True
    elif rt.unfired_in == slug:  # asked already, and nothing the slot routed since (see SlotRuntime)
        fired = False
    else:
        fired = positions.fired(cfg.id, slug)
        if fired:
            rt.fired_in = slug
        else:
            rt.unfired_in = slug
    view = rt.params_view if params is rt.params else MappingProxyType(params)
    if rt.ctx is not None and _refs(rt.ctx) <= _ONE_HOLDER and rt.ctx._src[0] is market:
        ctx = rt.ctx  # last cycle's, same window, held by nobody but the slot: refilled in place
        if ctx._filled:
            for name in ctx._filled:
                _C_DEL_BY_NAME[name](ctx)
            ctx._filled.clear()
        if _refs(ctx.window) <= _ONE_HOLDER:  # nor its window by anybody but the Context
            w = ctx.window
            _set_left(w, market.end - now)
            if w.armed is not armed:
                _set_armed(w, armed)
            if w.fired is not fired:
                _set_fired(w, fired)
        else:
            _s[4](ctx, _window(slug, market.start, market.end, market.end - now, market.price_to_beat, armed, fired))
        _set_now(ctx, now), _set_spot(ctx, data.spot.get(asset)), _set_oracle(ctx, data.oracle_price.get(asset))
        if rt.memory_seen != memory.changes:  # the cell held may have been replaced (a migration) or dropped
            _s[7](ctx, memory.cell(cfg.id, slug, state_version).data)
            rt.memory_seen = memory.changes
        if ctx.params is not view:
            _s[8](ctx, view)
        return ctx
    ctx = _new(LazyContext)
    _s[0](ctx, now), _s[1](ctx, cfg.id), _s[2](ctx, asset), _s[3](ctx, cfg.timeframe)
    _s[4](ctx, _window(slug, market.start, market.end, market.end - now, market.price_to_beat, armed, fired))
    _s[5](ctx, data.spot.get(asset)), _s[6](ctx, data.oracle_price.get(asset))
    _s[7](ctx, memory.cell(cfg.id, slug, state_version).data), _s[8](ctx, view)
    _s[9](ctx, market.fee_rate), _s[10](ctx, market.fee_exponent)
    _SRC_SET(ctx, (market, data, ind, positions, cfg.id))
    _FILLED_SET(ctx, [])
    rt.ctx, rt.memory_seen = ctx, memory.changes
    return ctx
