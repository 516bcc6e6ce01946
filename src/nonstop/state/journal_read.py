"""Reading the journal from outside the bot: Mission Control's `/api/trades`, reports, `nonstop status`.

Every reader opens its own read-only connection (the bot stays the one writer; WAL
lets both run at once), returns plain dicts, newest first, and answers [] / {} when
there is no journal yet. `home` is a home folder (`Path`/`str`) or a `Home`.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from nonstop.errors import UserError
from nonstop.home.paths import Home


def _path(home: Any) -> Path:
    root = home.root if isinstance(home, Home) else Path(home)
    return root / "journal.sqlite"


def _query(home: Any, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    path = _path(home)
    if not path.exists() or path.stat().st_size == 0:
        return []
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)) as conn:
            conn.row_factory = sqlite3.Row
            if int(conn.execute("PRAGMA user_version").fetchone()[0]) < 1:
                return []
            return [dict(r) for r in conn.execute(sql, params)]
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):  # an older journal not yet migrated by a bot start
            return []
        raise UserError(f"{path}: cannot read the journal ({exc}); is the file readable?") from None
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: the journal is corrupt ({exc}); move it aside and restart the bot") from None


def _limit(limit: int | None) -> int:
    return -1 if limit is None else max(0, int(limit))


def read_trades(home: Any, limit: int | None = 50) -> list[dict[str, Any]]:
    """Closed trades, newest first: slot, window, asset, timeframe, outcome, winner, shares, cost, fees,
    payout, pnl, closed_at, session."""
    return _query(home, "SELECT slot_id AS slot, slug AS window, asset, timeframe, outcome, winner, shares, cost, "
                        "fees, payout, pnl, closed_at, session FROM trades ORDER BY id DESC LIMIT ?",
                  (_limit(limit),))


def read_orders(home: Any, limit: int | None = 50, open_only: bool = False) -> list[dict[str, Any]]:
    """Orders, newest first, with their status history (`history`: [{status, filled, reason, ts}])."""
    where = "WHERE status NOT IN ('FILLED','CANCELLED','EXPIRED','REJECTED')" if open_only else ""
    orders = _query(home, f"SELECT session, client_id, slot_id AS slot, slug AS window, token_id, outcome, side, "
                          f"price, size, order_type, expires_at, status, filled, venue_order_id, reason, created_ts, "
                          f"updated_ts FROM orders {where} ORDER BY seq DESC LIMIT ?", (_limit(limit),))
    if orders:
        ids = tuple({o["client_id"] for o in orders})
        marks = ",".join("?" * len(ids))
        history: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for ev in _query(home, f"SELECT session, client_id, status, filled, reason, ts FROM order_events "
                               f"WHERE client_id IN ({marks}) ORDER BY seq", ids):
            key = (ev.pop("session"), ev.pop("client_id"))
            history.setdefault(key, []).append(ev)
        for o in orders:
            o["history"] = history.get((o["session"], o["client_id"]), [])
    return orders


def read_fills(home: Any, limit: int | None = 50) -> list[dict[str, Any]]:
    """Venue fills, newest first."""
    return _query(home, "SELECT session, fill_id, client_id, slug AS window, token_id, outcome, side, price, size, "
                        "fee, ts, maker FROM fills ORDER BY seq DESC LIMIT ?", (_limit(limit),))


def read_positions(home: Any) -> list[dict[str, Any]]:
    """Open positions of the latest session, as of the last cycle that changed them."""
    return _query(home, "SELECT slot_id AS slot, slug AS window, asset, timeframe, up_shares, down_shares, cost, "
                        "fees FROM positions WHERE session = (SELECT MAX(id) FROM sessions) ORDER BY slug, slot_id")


def read_generations(home: Any, limit: int | None = 100) -> list[dict[str, Any]]:
    """Strategy generations the bot ran, newest first."""
    return _query(home, "SELECT session, module, generation, sha256, loaded_at FROM strategy_generations "
                        "ORDER BY loaded_at DESC, generation DESC LIMIT ?", (_limit(limit),))


def read_control_revisions(home: Any, limit: int | None = 100) -> list[dict[str, Any]]:
    """Control revisions the bot applied, newest first."""
    return _query(home, "SELECT session, revision, mode, applied_wall FROM control_revisions ORDER BY id DESC "
                        "LIMIT ?", (_limit(limit),))


def read_rate_buckets(home: Any) -> list[dict[str, Any]]:
    """Rate-limit buckets of the latest session as last persisted."""
    return _query(home, "SELECT endpoint, window_s, capacity, tokens, updated_at FROM rate_buckets "
                        "WHERE session = (SELECT MAX(id) FROM sessions) ORDER BY endpoint, window_s")


def read_summary(home: Any) -> dict[str, Any]:
    """Counts and P&L per session: {schema_version, sessions: [{id, venue, orders, fills, trades, pnl, ...}]}."""
    sessions = _query(home, "SELECT s.id, s.venue, s.identity, s.persistent, s.starting_cash, s.started_wall, "
                            "s.ended_wall, (SELECT COUNT(*) FROM orders o WHERE o.session = s.id) AS orders, "
                            "(SELECT COUNT(*) FROM fills f WHERE f.session = s.id) AS fills, "
                            "(SELECT COUNT(*) FROM trades t WHERE t.session = s.id) AS trades, "
                            "(SELECT COALESCE(SUM(pnl), 0) FROM trades t WHERE t.session = s.id) AS realized_pnl "
                            "FROM sessions s ORDER BY s.id")
    if not sessions:
        return {}
    with closing(sqlite3.connect(f"file:{_path(home)}?mode=ro", uri=True)) as conn:
        schema = int(conn.execute("PRAGMA user_version").fetchone()[0])
    return {"schema_version": schema, "sessions": sessions}
