"""`nonstop sim-exchange`: the simulator served as Polymarket (Gamma, CLOB V2 REST, WebSockets) on loopback.

The real venue adapter (`nonstop.venues.polymarket`) is tested against it, and a bot can crash
and reconnect while its venue keeps its orders, fills and balances per API key.
"""

from nonstop.venues.exchange_server.app import create_app, fake_config, serve
from nonstop.venues.exchange_server.exchange import FakeExchange, Options

__all__ = ["FakeExchange", "Options", "create_app", "fake_config", "serve"]
