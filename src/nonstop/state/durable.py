"""Wiring of the durable state for one bot start: journal, session, rebuilt positions, budgets, reconciler.

`engine/build.py` calls `open_durable_state` after everything else is validated
(a refused start writes nothing) and hands the pieces to the Engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nonstop.errors import UserError
from nonstop.home.config import HomeConfig
from nonstop.home.paths import Home
from nonstop.state.journal import Journal, Session
from nonstop.state.positions import PositionManager
from nonstop.state.ratelimit import OrderThrottle, RateLimiter, parse_limits
from nonstop.state.recovery import Reconciler, rebuild


@dataclass
class DurableState:
    journal: Journal
    session: Session
    positions: PositionManager
    throttle: OrderThrottle
    reconciler: Reconciler
    replayed: int  # journal events replayed into the positions


def venue_identity(venue: Any) -> tuple[str, bool]:
    """(identity, persistent) of a venue; the in-process sim is neither named beyond its name nor persistent."""
    return str(getattr(venue, "identity", venue.name)), bool(getattr(venue, "persistent", False))


def open_durable_state(home: Home, config: HomeConfig, venue: Any, venue_now: float, wall: float) -> DurableState:
    try:
        limits = parse_limits(config.polymarket.get("rate_limits"))
    except ValueError as exc:
        raise UserError(f"{home.config}: {exc}") from None
    journal = Journal(home.journal)
    try:
        identity, persistent = venue_identity(venue)
        session = journal.begin_session(venue.name, identity, persistent, config.engine.starting_cash, wall,
                                        venue_now)
        positions = PositionManager(session.starting_cash)
        replayed = rebuild(journal, positions) if session.resumed else 0
        limiter = RateLimiter(limits, journal.load_buckets())
        journal.attach(positions, limiter)
        throttle = OrderThrottle(venue, limiter, persist=journal.save_limiter)
        if hasattr(venue, "use_rate_limiter"):  # a network venue spends its own calls from the same budgets
            venue.use_rate_limiter(limiter)
        reconciler = Reconciler(journal, session, throttle)
        reconciler.report.replayed = replayed
        return DurableState(journal, session, positions, throttle, reconciler, replayed)
    except BaseException:
        journal.close()
        raise
