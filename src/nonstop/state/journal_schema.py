"""The journal's schema as numbered migrations; `PRAGMA user_version` says which ran.

A migration is appended, never edited: a journal written by an older nonstop is
brought forward step by step on open, inside one transaction, so a failure leaves
it as it was. Every row carries the venue session it belongs to (see journal.py).
"""

from __future__ import annotations

# v1: the first released journal: sessions, orders with their status history,
# fills, resolutions, closed trades, open positions.
_V1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    venue TEXT NOT NULL,
    identity TEXT NOT NULL,
    persistent INTEGER NOT NULL,
    starting_cash REAL NOT NULL,
    started_wall REAL NOT NULL,
    started_venue REAL NOT NULL,
    ended_wall REAL
);
CREATE TABLE orders (
    session INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    slot_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    token_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    side TEXT NOT NULL,
    price REAL NOT NULL,
    size REAL NOT NULL,
    order_type TEXT NOT NULL,
    expires_at REAL,
    status TEXT NOT NULL,
    filled REAL NOT NULL DEFAULT 0,
    venue_order_id TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    created_ts REAL NOT NULL,
    updated_ts REAL NOT NULL,
    PRIMARY KEY (session, client_id)
);
CREATE TABLE order_events (
    seq INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    status TEXT NOT NULL,
    filled REAL NOT NULL,
    reason TEXT NOT NULL,
    venue_order_id TEXT NOT NULL,
    ts REAL NOT NULL
);
CREATE INDEX order_events_by_order ON order_events (session, client_id);
CREATE TABLE fills (
    session INTEGER NOT NULL,
    fill_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    client_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    token_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    side TEXT NOT NULL,
    price REAL NOT NULL,
    size REAL NOT NULL,
    fee REAL NOT NULL,
    ts REAL NOT NULL,
    maker INTEGER NOT NULL,
    PRIMARY KEY (session, fill_id)
);
CREATE TABLE resolutions (
    session INTEGER NOT NULL,
    slug TEXT NOT NULL,
    seq INTEGER NOT NULL,
    winner TEXT NOT NULL,
    ts REAL NOT NULL,
    final_value REAL NOT NULL,
    price_to_beat REAL NOT NULL,
    PRIMARY KEY (session, slug)
);
CREATE TABLE trades (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    slot_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    asset TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    outcome TEXT NOT NULL,
    winner TEXT NOT NULL,
    shares REAL NOT NULL,
    cost REAL NOT NULL,
    fees REAL NOT NULL,
    payout REAL NOT NULL,
    pnl REAL NOT NULL,
    closed_at REAL NOT NULL
);
CREATE TABLE positions (
    session INTEGER NOT NULL,
    slot_id TEXT NOT NULL,
    slug TEXT NOT NULL,
    asset TEXT NOT NULL,
    timeframe TEXT NOT NULL,
    up_shares REAL NOT NULL,
    down_shares REAL NOT NULL,
    cost REAL NOT NULL,
    fees REAL NOT NULL,
    PRIMARY KEY (session, slot_id, slug)
);
"""

# v2: rate-limit buckets (persisted so a restart does not spend a budget twice),
# the strategy generation history and the control revisions applied.
_V2 = """
CREATE TABLE rate_buckets (
    session INTEGER NOT NULL,
    endpoint TEXT NOT NULL,
    window_s REAL NOT NULL,
    capacity REAL NOT NULL,
    tokens REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (session, endpoint, window_s)
);
CREATE TABLE strategy_generations (
    session INTEGER NOT NULL,
    module TEXT NOT NULL,
    generation INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    loaded_at REAL NOT NULL,
    PRIMARY KEY (session, module, generation)
);
CREATE TABLE control_revisions (
    id INTEGER PRIMARY KEY,
    session INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    mode TEXT NOT NULL,
    applied_wall REAL NOT NULL
);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2)  # MIGRATIONS[i] brings version i to version i + 1
SCHEMA_VERSION = len(MIGRATIONS)

# What a journal of the current version must hold; checked on open.
TABLES = ("sessions", "orders", "order_events", "fills", "resolutions", "trades", "positions",
          "rate_buckets", "strategy_generations", "control_revisions")
