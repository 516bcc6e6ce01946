"""client id -> CLOB order id and the signed order, written (and fsynced) before the order is sent.

Polymarket orders carry no client id: the venue names an order by the hash of its signed struct.
This small SQLite file (`HOME/polymarket-orders.sqlite`) is how the adapter finds its orders again
after a crash, and how it resends an order it is unsure about without ever placing it twice: the
same signed order has the same id, and the venue refuses it as a duplicate if it already has it.
Rows are scoped by the venue identity (hosts + account), so another venue world never matches.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    identity TEXT NOT NULL,
    client_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (identity, client_id)
);
CREATE INDEX IF NOT EXISTS orders_by_id ON orders (order_id);
"""


class OrderStore:
    def __init__(self, path: Path | None, identity: str) -> None:
        self.identity = identity
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._by_client: dict[str, tuple[str, dict[str, Any]]] = {}
        self._by_order: dict[str, str] = {}
        for cid, oid, body in self._db.execute(
                "SELECT client_id, order_id, body FROM orders WHERE identity = ?", (identity,)):
            self._by_client[cid] = (oid, json.loads(body))
            self._by_order[oid] = cid

    def put(self, client_id: str, order_id: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO orders VALUES (?, ?, ?, ?, ?)",
                             (self.identity, client_id, order_id, json.dumps(body), time.time()))
            self._by_client[client_id] = (order_id, body)
            self._by_order[order_id] = client_id

    def get(self, client_id: str) -> tuple[str, dict[str, Any]] | None:
        with self._lock:
            return self._by_client.get(client_id)

    def client_of(self, order_id: str) -> str | None:
        with self._lock:
            return self._by_order.get(order_id)

    def order_ids(self) -> dict[str, str]:
        with self._lock:
            return dict(self._by_order)

    def close(self) -> None:
        with self._lock:
            self._db.close()
