-- nonstop journal, schema version 1 (frozen copy: what the first released nonstop created).
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

-- Rows as a version-1 nonstop wrote them: one in-process sim session, a filled order, a resting one,
-- its fill, the window's resolution and the closed trade.
INSERT INTO sessions VALUES (1, 'sim', 'sim', 0, 1000.0, 1795000000.0, 1793577600.0, 1795000100.0);
INSERT INTO orders VALUES (1, 'old-slot.1793577600.1', 1, 'old-slot', 'btc-updown-5m-1793577600', 'tok-up', 'Up', 'BUY',
  0.85, 10.0, 'FAK', NULL, 'FILLED', 10.0, 'sim-order-1', '', 1793577800.0, 1793577800.3);
INSERT INTO orders VALUES (1, 'old-slot.1793577600.2', 2, 'old-slot', 'btc-updown-5m-1793577600', 'tok-up', 'Up', 'BUY',
  0.4, 10.0, 'GTC', NULL, 'LIVE', 0.0, 'sim-order-2', '', 1793577810.0, 1793577810.1);
INSERT INTO order_events VALUES (3, 1, 'old-slot.1793577600.1', 'FILLED', 10.0, '', 'sim-order-1', 1793577800.3);
INSERT INTO order_events VALUES (4, 1, 'old-slot.1793577600.2', 'LIVE', 0.0, '', 'sim-order-2', 1793577810.1);
INSERT INTO fills VALUES (1, 'sim-fill-1', 5, 'old-slot.1793577600.1', 'btc-updown-5m-1793577600', 'tok-up', 'Up', 'BUY',
  0.85, 10.0, 0.25, 1793577800.3, 0);
INSERT INTO resolutions VALUES (1, 'btc-updown-5m-1793577600', 6, 'Up', 1793577900.0, 90100.0, 90000.0);
INSERT INTO trades VALUES (1, 1, 'old-slot', 'btc-updown-5m-1793577600', 'BTC', '5m', 'Up', 'Up', 10.0, 8.5, 0.25, 10.0,
  1.25, 1793577900.0);
PRAGMA user_version = 1;
