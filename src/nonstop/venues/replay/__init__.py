"""The replay venue: recorded market data (FORMAT.md) played through the unchanged engine.

`make_replay_venue(config, opts)` is what `nonstop run --venue replay --data FILE...` and the
backtester build; `MarketDataWriter` writes the format (the Polymarket recorder and the sim
converter use it); `MarketDataReader` reads and checks it; `convert_sim` makes test data.
"""

from __future__ import annotations

from typing import Any

from nonstop.errors import UserError
from nonstop.venues.replay.format import FORMAT_NAME, FORMAT_VERSION, SUFFIX, Header, decode_frame, encode_frame
from nonstop.venues.replay.reader import MarketDataReader, peek_header
from nonstop.venues.replay.writer import MarketDataWriter
from nonstop.venues.replay.convert import convert_sim
from nonstop.venues.replay.venue import ReplayVenue

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "SUFFIX", "Header", "MarketDataReader", "MarketDataWriter",
           "ReplayVenue", "convert_sim", "decode_frame", "encode_frame", "make_replay_venue", "peek_header",
           "sim_config_of"]


def sim_config_of(config: Any) -> Any:
    """The sim rules (fees, latency, taker delay, minimum size) a home's [sim] section sets."""
    from nonstop.venues.sim import SimConfig

    try:
        return SimConfig(**config.sim)
    except Exception as exc:
        raise UserError(f"nonstop.toml [sim]: {exc}".splitlines()[0]) from None


def make_replay_venue(config: Any, opts: Any) -> ReplayVenue:
    """The replay venue for a home's config and run options (`opts.data`: the files, in any order)."""
    files = list(getattr(opts, "data", None) or [])
    if not files:
        raise UserError("--data: --venue replay needs at least one market-data file; "
                        "record one with `nonstop record` or convert a sim run")
    return ReplayVenue(files, sim_config_of(config))
