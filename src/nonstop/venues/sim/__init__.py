"""The embedded deterministic simulator of Polymarket's crypto Up/Down markets.

`SimVenue` is the Venue the engine uses; `SimExchange` is the whole market on an explicit clock
(for an HTTP fake or a recorder); `resolve` is the resolution rule as a pure function.
"""

from nonstop.venues.sim.config import AssetParams, SimConfig
from nonstop.venues.sim.exchange import Delivered, SimExchange
from nonstop.venues.sim.oracle import Resolved, resolve
from nonstop.venues.sim.venue import SimVenue

__all__ = ["AssetParams", "SimConfig", "SimExchange", "SimVenue", "Delivered", "Resolved", "resolve"]
