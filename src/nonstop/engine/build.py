"""Wiring: a home, a venue and a clock become a ready Engine. Validates everything before writing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nonstop.control.schema import ControlDoc
from nonstop.control.watcher import ControlWatcher
from nonstop.engine.clock import Clock, RealClock, SimClock
from nonstop.engine.cycle import Engine
from nonstop.engine.report import build_status
from nonstop.errors import UserError
from nonstop.home.config import VENUES, HomeConfig, load_config
from nonstop.home.paths import Home
from nonstop.reload.registry import ReloadSettings, StrategyRegistry
from nonstop.state.durable import open_durable_state
from nonstop.state.journal import check_journal
from nonstop.status.writer import StatusWriter


@dataclass
class RunOptions:
    venue: str | None = None
    seed: int | None = None
    speed: float | None = 1.0  # None: as fast as possible
    live: bool = False
    data: list[str] | None = None  # replay files
    status_min_interval_s: float | None = None
    home: str | None = None  # the bot's home, for venues that keep a file there (polymarket's order store)


def make_venue(name: str, config: HomeConfig, seed: int, opts: RunOptions) -> Any:
    if name == "sim":
        from nonstop.venues.sim import SimConfig, SimVenue

        try:
            sim_config = SimConfig(**config.sim)
        except Exception as exc:
            raise UserError(f"nonstop.toml [sim]: {exc}".splitlines()[0]) from None
        return SimVenue(seed, sim_config)
    if name == "replay":
        from nonstop.venues.replay import make_replay_venue  # type: ignore[attr-defined]

        return make_replay_venue(config, opts)
    if name == "polymarket":
        from nonstop.venues.polymarket import make_polymarket_venue  # type: ignore[attr-defined]

        return make_polymarket_venue(config, opts)
    raise UserError(f"--venue: unknown venue {name!r}; use one of {', '.join(VENUES)}")


def build_engine(home: Home, opts: RunOptions, venue: Any = None) -> Engine:
    """`venue`: an already made Venue object (tests: a venue that outlives the engine); default by name."""
    config = load_config(home)
    check_journal(home.journal)  # a damaged or too new journal stops the start before anything is written
    venue_name = opts.venue or config.venue
    if venue_name not in VENUES:
        raise UserError(f"--venue: unknown venue {venue_name!r}; use one of {', '.join(VENUES)}")
    if opts.speed is not None and opts.speed <= 0:
        raise UserError("--speed: must be > 0; give a factor such as 60, or 'max'")
    if not config.slots:
        raise UserError(f"{home.config}: no [[slot]] configured; add one (see `nonstop init`)")
    seed = config.seed if opts.seed is None else opts.seed
    registry = StrategyRegistry(home, config.slots, ReloadSettings(
        rollback_after_failures=config.engine.rollback_after_failures))
    registry.load_all()
    if venue is None:
        opts.home = opts.home or str(home.root)
        venue = make_venue(venue_name, config, seed, opts)
    clock: Clock
    if venue_name == "polymarket":
        clock = getattr(venue, "clock", None) or RealClock()  # wall time, or a sped-up sim-exchange's clock
    else:
        clock = SimClock(getattr(venue, "start_time"), opts.speed)
    initial = _read_initial_control(home)
    watcher = ControlWatcher(home.control, initial)
    interval = opts.status_min_interval_s
    if interval is None:
        interval = 0.05 if opts.speed is None or opts.speed > 50 else 0.0
    sink = StatusWriter(home.status, build_status, interval)
    # Last, once everything is valid: open the journal, rebuild positions from it (state/durable.py).
    durable = open_durable_state(home, config, venue, clock.now(), clock.wall())
    engine = Engine(config, venue, clock, registry, watcher, sink, journal=durable.journal,
                    positions=durable.positions, throttle=durable.throttle, recover=durable.reconciler)
    return engine


def _read_initial_control(home: Home) -> ControlDoc | None:
    """The valid control.json at start, or None: then the bot starts PAUSED (there is no last good
    document to keep) and the watcher reports why, until a valid document appears."""
    from nonstop.control.watcher import load_initial

    return load_initial(home.control)
