"""Recovery after any stop, `kill -9` included: rebuild from the journal, then reconcile with the venue.

1. **Rebuild** (before the engine exists): the session's orders, order updates, fills
   and resolutions are replayed, in the order they were journaled, through a fresh
   PositionManager, which so ends exactly where the killed one stood: positions,
   open orders, cash, trade history and the client-id counters (ids never repeat,
   "fired" is known again). Window state is not stored: it is rebuilt by the cycle.
2. **Reconcile** (after the venue started, before the first cycle): the venue is asked
   what became of every order of the still-open windows, for their fills, and for
   the windows that resolved while the bot was down. The answers become ordinary
   trading events that the engine journals and applies like any other (each fill
   once: the journal keys fills by id). An intent the venue never received is resent
   under the same client id while it is still fresh, or abandoned; never sent anew.

A venue takes part through the optional methods of `ReconcilingVenue`; the in-process
sim has none, and each of its runs is a new world (a new journal session).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

from nonstop.control.schema import Mode
from nonstop.engine.gate import MODE_TABLE
from nonstop.markets import TIMEFRAMES, Outcome, parse_slug
from nonstop.state.journal import Journal, Session
from nonstop.state.positions import PositionManager
from nonstop.state.ratelimit import OrderThrottle
from nonstop.venues.base import (Event, Fill, OrderRequest, OrderStatus, OrderType, OrderUpdate, Resolution,
                                 Side)

RETRY_WITHIN_S = 10.0  # an unsent taker intent older than this (venue time) is abandoned, not resent
RETRY_MARGIN_S = 5.0  # nor resent when its window closes sooner than this
LATE_AFTER_S = 30.0  # a window ended this long ago with no resolution seen: ask the venue
ASK_EVERY_S = 30.0  # and ask again this often (venue time) until it answers


@dataclass(frozen=True)
class JournaledOrder:
    """An order as the journal knows it, handed to the venue for reconciliation."""

    request: OrderRequest
    status: OrderStatus
    filled: float
    venue_order_id: str
    created_ts: float


class ReconcilingVenue(Protocol):
    """What a venue whose state outlives the bot offers recovery (all optional, looked up by name)."""

    persistent: bool  # True: orders and fills survive the bot's process (sim-exchange, Polymarket)
    identity: str  # which venue world and account; a different identity starts a new journal session

    def order_states(self, orders: list[JournaledOrder]) -> dict[str, OrderUpdate | None]:
        """By client id: the venue's status and cumulative fill of each order; None = never received."""

    def fills_for(self, orders: list[JournaledOrder]) -> list[Fill]:
        """Every fill of these orders so far, with the same fill ids the live stream uses."""

    def resolution(self, slug: str) -> Resolution | None:
        """The outcome of a window if it has resolved."""

    def positions(self) -> dict[str, float]:
        """Optional: shares held per token id, to check the rebuilt positions against."""


# -- 1. rebuild ----------------------------------------------------------------------


def _journal_events(journal: Journal, session: int) -> Iterator[tuple[int, str, tuple[Any, ...]]]:
    streams = [
        ("intent", "SELECT seq, client_id, slot_id, slug, token_id, outcome, side, price, size, order_type, "
                      "expires_at FROM orders WHERE session = ? ORDER BY seq"),
        ("update", "SELECT seq, client_id, status, filled, reason, venue_order_id, ts FROM order_events "
                      "WHERE session = ? ORDER BY seq"),
        ("fill", "SELECT seq, fill_id, client_id, slug, token_id, outcome, side, price, size, fee, ts, maker "
                    "FROM fills WHERE session = ? ORDER BY seq"),
        ("resolution", "SELECT seq, slug, winner, ts, final_value, price_to_beat FROM resolutions "
                          "WHERE session = ? ORDER BY seq"),
    ]
    def tagged(kind: str, sql: str) -> Iterator[tuple[int, str, tuple[Any, ...]]]:
        return ((row[0], kind, tuple(row[1:])) for row in journal.rows(sql, session))

    return heapq.merge(*(tagged(kind, sql) for kind, sql in streams), key=lambda e: e[0])


def rebuild(journal: Journal, pm: PositionManager) -> int:
    """Replay the session into `pm` (fresh, with the session's starting cash); returns events replayed."""
    assert journal.session is not None
    count = 0
    for _, kind, row in _journal_events(journal, journal.session.id):
        count += 1
        if kind == "intent":
            cid, slot_id, slug, token, outcome, side, price, size, otype, expires = row
            _advance_counter(pm, slot_id, slug, cid)
            asset, timeframe, _ = parse_slug(slug)
            pm.order_sent(OrderRequest(cid, slug, token, Outcome(outcome), Side(side), price, size, OrderType(otype),
                                       expires, slot_id), asset, timeframe)
        elif kind == "update":
            cid, status, filled, reason, venue_id, ts = row
            pm.on_order_update(OrderUpdate(cid, OrderStatus(status), ts, reason, venue_id, filled))
        elif kind == "fill":
            fill = Fill(row[0], row[1], row[2], row[3], Outcome(row[4]), Side(row[5]), row[6], row[7], row[8],
                        row[9], bool(row[10]))
            asset, timeframe, _ = parse_slug(fill.slug)
            pm.on_fill(fill, asset, timeframe)
        else:
            slug, winner, ts, final_value, ptb = row
            pm.on_resolution(Resolution(slug, Outcome(winner), ts, final_value, ptb))
    return count


def _advance_counter(pm: PositionManager, slot_id: str, slug: str, client_id: str) -> None:
    """Bring the deterministic id counter to the journaled id (ids are `slot.window.n`)."""
    try:
        target = int(client_id.rsplit(".", 1)[1])
    except (IndexError, ValueError):
        pm.next_client_id(slot_id, slug)
        return
    for _ in range(target):
        if pm.next_client_id(slot_id, slug) == client_id:
            return


# -- 2. reconcile ----------------------------------------------------------------------


@dataclass
class ReconcileReport:
    orders_checked: int = 0
    fills: int = 0
    resent: int = 0
    abandoned: int = 0
    updated: int = 0
    resolved: int = 0
    position_mismatches: int = 0
    late_resolved: int = 0  # of `resolved`, found by the periodic check after the start
    replayed: int = 0  # journal events replayed to rebuild the positions
    seconds: float = 0.0  # wall time reconciliation took
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "notes"} | {"notes": list(self.notes)}


class Reconciler:
    """Run once by the engine after venue.start(); returns the events to journal and apply."""

    def __init__(self, journal: Journal, session: Session, throttle: OrderThrottle) -> None:
        self.journal = journal
        self.session = session
        self.throttle = throttle
        self.report = ReconcileReport()
        self._next_ask = 0.0

    def __call__(self, engine: Any, apply: Callable[[list[Event]], None]) -> ReconcileReport:
        """Reconcile, hand the events to `apply` (the engine's journal-first fill step), check positions."""
        t0 = time.monotonic()
        now = engine.clock.now()
        _restore_daily_loss(self.journal, engine, now)
        self.journal.control_applied(engine.control.applied_revision, engine.mode.value, engine.clock.wall())
        if self.session.resumed:
            apply(self._events(engine, now))
            self._check_positions(engine)
        for note in self.report.notes:
            engine.errors.add(engine.clock.wall(), "recovery", note)
        self.report.seconds = round(time.monotonic() - t0, 3)
        # status.json extra.recovery (report.py merges engine.extra_status): what this start found and did
        engine.__dict__.setdefault("extra_status", {})["recovery"] = self.report.as_dict()
        return self.report

    def _events(self, engine: Any, now: float) -> list[Event]:
        venue = engine.venue
        orders = self._orders(engine.positions)
        events: list[Event] = []
        if not orders:
            states: dict[str, OrderUpdate | None] = {}
        elif hasattr(venue, "order_states"):  # what became of the open ones; fills of all (they settle late)
            states = venue.order_states([o for o in orders if not o.status.is_final])
            fills = sorted(venue.fills_for(orders), key=lambda f: (f.ts, f.fill_id)) if hasattr(venue, "fills_for") \
                else []
            events.extend(fills)
            self.report.fills = len(fills)
        else:  # the base protocol only: what rests is known, what filled while down is not
            live = {o.client_id: o for o in venue.open_orders()}
            states = {o.request.client_id: (OrderUpdate(o.request.client_id, live[o.request.client_id].status, now,
                                                        filled=live[o.request.client_id].filled)
                                            if o.request.client_id in live else None) for o in orders}
            self.report.notes += (f"venue {venue.name} offers no order_states/fills_for: reconciled against its "
                                  f"open orders only; fills made while the bot was down may be missing",)
        for o in orders:
            if o.status.is_final:
                continue
            seen = states.get(o.request.client_id)
            if seen is None:
                events.append(self._unsent(o, now, engine.mode))
            elif seen.status != o.status or seen.filled != o.filled:
                events.append(OrderUpdate(o.request.client_id, seen.status, now,
                                          seen.reason or "reconciled after restart", seen.venue_order_id, seen.filled))
                self.report.updated += 1
        events.extend(self._resolutions(venue, engine.positions, now))
        self.report.orders_checked = len(orders)
        return events

    def _check_positions(self, engine: Any) -> None:
        """The venue's shares per token against ours, on the tokens of our open windows."""
        venue = engine.venue
        if not hasattr(venue, "positions"):
            return
        pm: PositionManager = engine.positions
        tokens = {(r.request.slug, r.request.outcome): r.request.token_id for r in pm.orders.values()}
        held: dict[str, float] = {}
        for p in pm.positions.values():
            for outcome, shares in ((Outcome.UP, p.up_shares), (Outcome.DOWN, p.down_shares)):
                token = tokens.get((p.slug, outcome))
                if token is not None:
                    held[token] = held.get(token, 0.0) + shares
        theirs = venue.positions()
        bad = sorted(t for t in held if abs(held[t] - theirs.get(t, 0.0)) > 1e-6)
        self.report.position_mismatches = len(bad)
        self.report.notes += tuple(f"position mismatch on token {t}: journal {held[t]:g} shares, venue "
                                   f"{theirs.get(t, 0.0):g}" for t in bad)

    def _orders(self, pm: PositionManager) -> list[JournaledOrder]:
        if not pm.orders:
            return []
        rows = {r[0]: r[1:] for r in self.journal.rows(
            "SELECT client_id, venue_order_id, created_ts FROM orders WHERE session = ?", self.session.id)}
        return [JournaledOrder(r.request, r.status, r.filled, *rows.get(cid, ("", 0.0))) for cid, r in pm.orders.items()]

    def _unsent(self, o: JournaledOrder, now: float, mode: Mode) -> OrderUpdate:
        """Resend under the same client id while the intent still stands: the window is open, the mode
        still lets its side through, and it rests at its limit (GTC/GTD) or is still fresh (a taker
        decided on a book that is gone after RETRY_WITHIN_S). Otherwise abandon it."""
        req = o.request
        age = now - o.created_ts
        allowed = MODE_TABLE[mode][0 if req.side is Side.BUY else 1]
        fresh = not req.order_type.is_taker or age <= RETRY_WITHIN_S
        if allowed and fresh and now < _window_end(req.slug) - RETRY_MARGIN_S:
            self.throttle.place(req, now)  # the same request, the same client id: never a second order
            self.report.resent += 1
            return OrderUpdate(req.client_id, OrderStatus.PENDING, now,
                               f"resent after restart: the venue never received it ({age:.0f}s old)")
        self.report.abandoned += 1
        why = f"mode {mode.value}" if not allowed else "its window closes" if fresh else f"{age:.0f}s old"
        return OrderUpdate(req.client_id, OrderStatus.CANCELLED, now,
                           f"abandoned after restart: the venue never received it ({why})")

    def late_resolutions(self, engine: Any, now: float) -> list[Event]:
        """Each cycle: a window we hold that ended a while ago and whose resolution never came (it was
        published after the restart, for a window this run's feed never listed; or a socket dropped
        it) is asked of the venue every ASK_EVERY_S until it answers."""
        if now < self._next_ask or not hasattr(engine.venue, "resolution"):
            return []
        self._next_ask = now + ASK_EVERY_S
        found = self._resolutions(engine.venue, engine.positions, now - LATE_AFTER_S)
        self.report.late_resolved += len(found)
        return list(found)

    def _resolutions(self, venue: Any, pm: PositionManager, ended_by: float) -> list[Resolution]:
        if not hasattr(venue, "resolution"):
            return []
        out = []
        for slug in sorted({p.slug for p in pm.positions.values()}):
            if _window_end(slug) <= ended_by:
                res = venue.resolution(slug)
                if res is not None:
                    out.append(res)
        self.report.resolved += len(out)
        return out


def _window_end(slug: str) -> float:
    _, timeframe, start = parse_slug(slug)
    return float(start + TIMEFRAMES[timeframe])


def _restore_daily_loss(journal: Journal, engine: Any, now: float) -> None:
    """The max-daily-loss breaker counts from the day's start, not from the restart."""
    if journal.session is None:
        return
    day = int(now // 86400)
    before = journal.rows("SELECT COALESCE(SUM(pnl), 0) FROM trades WHERE session = ? AND closed_at < ?",
                          journal.session.id, day * 86400.0)[0][0]
    engine.daily.day, engine.daily.start_pnl = day, float(before)

