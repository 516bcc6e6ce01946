"""The real Polymarket venue on the official SDK (polymarket-client): paper by default, live on request.

`make_polymarket_venue(config, opts)` is what `nonstop run --venue polymarket` builds. Hosts come
from nonstop.toml `[polymarket]` and NONSTOP_POLYMARKET_* variables (see settings.py); the
loopback fake is `nonstop sim-exchange`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from nonstop.errors import UserError
from nonstop.venues.polymarket.settings import load_credentials, load_settings

NO_CREDENTIALS = ("--live: no Polymarket credentials; set NONSTOP_POLYMARKET_PRIVATE_KEY (and "
                  "NONSTOP_POLYMARKET_FUNDER for a proxy wallet) or NONSTOP_POLYMARKET_CREDENTIALS_FILE to a file "
                  "outside the repository; without --live the bot trades on paper")


def make_polymarket_venue(config: Any, opts: Any) -> Any:
    """A PolymarketVenue; bad settings and missing credentials are refused before the SDK is even loaded."""
    settings = load_settings(config.polymarket)
    pairs = sorted({(s.asset, s.timeframe) for s in config.slots})
    creds = None
    if opts.live:
        creds = load_credentials(settings)
        if creds is None:
            raise UserError(NO_CREDENTIALS)
    clock, world = None, ""
    hosts = settings.hosts()
    if settings.clock == "server":
        from nonstop.venues.polymarket.clock import ServerClock

        clock = ServerClock.fetch(hosts.get("clob_url", ""))
        world = clock.world
    from nonstop.venues.polymarket.venue import PolymarketVenue

    home = getattr(opts, "home", None)
    store = Path(home) / "polymarket-orders.sqlite" if home else None
    venue = PolymarketVenue(settings, pairs, creds, clock, store, world)
    if settings.record:
        from nonstop.venues.polymarket.record import Recorder

        venue.recorder = Recorder(settings.record, config.engine.period_s, {"world": world, "mode": "live" if creds
                                                                             else "paper"})
    if creds is not None:
        try:
            account = venue.connect_live()
        except UserError:
            venue.close()
            raise
        except Exception as exc:
            venue.close()
            raise UserError(f"--live: cannot log in at {hosts.get('clob_url') or 'the CLOB'} "
                            f"({type(exc).__name__}: {str(exc)[:200]}); check the hosts and credentials") from None
        _announce(venue, account)
    return venue


def _announce(venue: Any, account: dict[str, Any]) -> None:
    """A live start says what it trades with, and refuses to start without collateral or allowance."""
    unlimited = account["allowance"] > 1e30
    print(f"live: wallet {account['wallet']} (signer {account['signer']}), API key {account['api_key']}", file=sys.stderr)
    print(f"live: collateral {account['balance']:.2f} pUSD, allowance "
          f"{'unlimited' if unlimited else format(account['allowance'], '.2f')} pUSD", file=sys.stderr)
    if account["balance"] <= 0 or account["allowance"] <= 0:
        venue.close()
        missing = "collateral" if account["balance"] <= 0 else "allowance"
        raise UserError(f"--live: no {missing} at wallet {account['wallet']}; deposit pUSD and approve the exchange "
                        f"(or run without --live to trade on paper)")
    print("live: the first orders are printed as they are sent", file=sys.stderr, flush=True)


def __getattr__(name: str) -> Any:
    if name == "PolymarketVenue":  # loaded on use: importing the SDK takes a while
        from nonstop.venues.polymarket.venue import PolymarketVenue

        return PolymarketVenue
    raise AttributeError(name)


__all__ = ["PolymarketVenue", "make_polymarket_venue"]
