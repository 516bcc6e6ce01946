"""The journal: HOME/journal.sqlite, the durable record of what the bot did and what the venue said.

SQLite in WAL mode with `synchronous=NORMAL`: a committed transaction survives the
process being killed (`kill -9`) at any instruction; only an OS crash may lose the
last few. Journal first: an order intent is committed before the order is sent;
order updates, fills and resolutions are written before the position manager sees
them and committed at the end of the cycle (a crash before that loses them together
with the in-memory change, and reconciliation asks the venue for them again).

Rows belong to a *venue session*: one account at one venue world. A venue whose state
outlives the bot (`persistent = True`: sim-exchange, Polymarket) continues its session
across restarts; the in-process sim starts a new world, so a new session, every run.

Opening checks before writing anything: a file that is not a journal, a damaged one or
one from a newer nonstop stops the bot with one line (exit 2) and is left untouched.
Readers for reports and Mission Control live in `journal_read.py` (re-exported here).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from nonstop.errors import UserError
from nonstop.state.journal_read import (read_control_revisions, read_fills, read_generations,  # noqa: F401
                                        read_orders, read_positions, read_rate_buckets, read_summary,
                                        read_trades)
from nonstop.state.journal_schema import MIGRATIONS, SCHEMA_VERSION, TABLES
from nonstop.venues.base import Event, Fill, OrderRequest, OrderStatus, OrderUpdate, Resolution

_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class Session:
    id: int
    venue: str
    identity: str
    persistent: bool
    starting_cash: float
    resumed: bool  # True: the previous run's session continues (recover and reconcile)


_checked: dict[tuple[str, int, int, int], int] = {}  # (path, mtime, size, wal size) -> version: check once


def check_journal(path: Path) -> int:
    """The schema version of the journal at `path` (0: none yet); UserError if unusable. Writes nothing."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    wal = path.with_name(path.name + "-wal")
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size, wal.stat().st_size if wal.exists() else -1)
    if key not in _checked:
        _checked.clear()
        _checked[key] = _check(path, wal)
    return _checked[key]


def _check(path: Path, wal: Path) -> int:
    fix = (f"move it aside (e.g. `mv {path} {path}.bad`) to start a fresh journal, "
           f"or restore it from a backup")
    with open(path, "rb") as handle:
        if handle.read(16) != _HEADER:
            raise UserError(f"{path}: not a nonstop journal (not an SQLite database); {fix}")
    # Without a WAL file the main file is the whole journal: read it immutably so no -shm/-wal is created.
    uri = f"file:{path}?mode=ro" + ("" if wal.exists() else "&immutable=1")
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            verdict = "; ".join(r[0] for r in conn.execute("PRAGMA quick_check(3)")
                                if not r[0].startswith("***"))
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"{path}: the journal is corrupt ({exc}); {fix}") from None
    if verdict != "ok":
        raise UserError(f"{path}: the journal is corrupt (integrity check: {verdict[:200]}); {fix}")
    if version > SCHEMA_VERSION:
        raise UserError(f"{path}: journal schema version {version} is newer than this nonstop understands "
                        f"({SCHEMA_VERSION}); upgrade nonstop, or point --home at another folder")
    if version == 0 and tables:
        raise UserError(f"{path}: holds tables but no journal schema version; {fix}")
    missing = [t for t in TABLES[:7] if version >= 1 and t not in tables]
    if missing:
        raise UserError(f"{path}: journal version {version} lacks table {missing[0]!r}; {fix}")
    return version


def _lock_home(lock: Path) -> int:
    """One bot per home: a POSIX lock the kernel drops when the process dies, kill -9 included.
    (Per process, so a test that builds two engines in one process is not refused.)"""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
        os.close(fd)
        raise UserError(f"{lock.parent}: another bot (pid {holder}) is running on this home; stop it first "
                        f"(`kill {holder}`), or give this one its own --home") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


class Journal:
    """The bot's one writer of the journal. Implements `JournalLike` for the engine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.migrated_from = check_journal(path)
        self._lock_fd = _lock_home(path.with_name(".bot.lock"))
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self._migrate(self.migrated_from)
        self.session: Session | None = None
        self._seq = self._max_seq()
        self._in_tx = False
        self._dirty = False
        self.positions: Any = None  # the PositionManager whose snapshot is written (attach())
        self.limiter: Any = None  # the RateLimiter whose buckets are written (attach())
        self._trades_written = 0

    # -- opening -----------------------------------------------------------------

    def _migrate(self, version: int) -> None:
        if version == SCHEMA_VERSION:
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for step in MIGRATIONS[version:]:
                for statement in step.split(";"):
                    if statement.strip():
                        self.conn.execute(statement)
            self.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def _max_seq(self) -> int:
        q = ("SELECT MAX(m) FROM (SELECT MAX(seq) m FROM orders UNION ALL SELECT MAX(seq) FROM order_events "
             "UNION ALL SELECT MAX(seq) FROM fills UNION ALL SELECT MAX(seq) FROM resolutions)")
        return int(self.conn.execute(q).fetchone()[0] or 0)

    def begin_session(self, venue: str, identity: str, persistent: bool, starting_cash: float,
                      wall: float, venue_now: float) -> Session:
        """Continue the last session when the same persistent venue is back; else start a new one."""
        last = self.conn.execute("SELECT id, venue, identity, persistent, starting_cash FROM sessions "
                                 "ORDER BY id DESC LIMIT 1").fetchone()
        self._begin()
        if last is not None and persistent and bool(last[3]) and last[1] == venue and last[2] == identity:
            self.conn.execute("UPDATE sessions SET ended_wall = NULL WHERE id = ?", (last[0],))
            self.session = Session(last[0], venue, identity, True, float(last[4]), True)
        else:
            if last is not None:  # that venue's world is gone: its resting orders went with it
                self._end_open_orders(last[0], venue_now, "venue session ended; the venue no longer holds it")
            cur = self.conn.execute(
                "INSERT INTO sessions (venue, identity, persistent, starting_cash, started_wall, started_venue) "
                "VALUES (?, ?, ?, ?, ?, ?)", (venue, identity, int(persistent), starting_cash, wall, venue_now))
            self.session = Session(int(cur.lastrowid or 0), venue, identity, persistent, starting_cash, False)
        self.commit()
        return self.session

    def attach(self, positions: Any = None, limiter: Any = None) -> None:
        """The owners whose state is snapshotted at the end of each cycle that changed it."""
        self.positions = positions
        self.limiter = limiter
        if positions is not None:
            # Closed trades are rows derived at the end of a cycle; a kill after a mid-cycle commit can
            # leave the last ones unwritten. The replayed manager knows them: write what is missing.
            (have,) = self.conn.execute("SELECT COUNT(*) FROM trades WHERE session = ?", (self._sid,)).fetchone()
            self._trades_written = min(int(have), positions.totals.trades)
            self._dirty = True
            self._write_positions()
            self.commit()

    # -- JournalLike -------------------------------------------------------------

    def order_intent(self, order: OrderRequest, now: float) -> None:
        """Committed before the order is sent. A client id seen before in this session is a bug: refuse."""
        self._begin()
        self._seq += 1
        self.conn.execute(
            "INSERT INTO orders (session, client_id, seq, slot_id, slug, token_id, outcome, side, price, size, "
            "order_type, expires_at, status, created_ts, updated_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (self._sid, order.client_id, self._seq, order.slot_id, order.slug, order.token_id,
             order.outcome.value, order.side.value, order.price, order.size, order.order_type.value,
             order.expires_at, OrderStatus.PENDING.value, now, now))
        self._dirty = True
        self.commit()

    def trading_event(self, event: Event) -> bool:
        """Record an order update, fill or resolution; False when this fill/resolution is already here."""
        self._begin()
        sid = self._sid
        if isinstance(event, Fill):
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO fills (session, fill_id, seq, client_id, slug, token_id, outcome, side, "
                "price, size, fee, ts, maker) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (sid, event.fill_id, self._seq + 1, event.client_id, event.slug, event.token_id,
                 event.outcome.value, event.side.value, event.price, event.size, event.fee, event.ts,
                 int(event.maker)))
        elif isinstance(event, OrderUpdate):
            cur = self.conn.execute(
                "INSERT INTO order_events (seq, session, client_id, status, filled, reason, venue_order_id, ts) "
                "VALUES (?,?,?,?,?,?,?,?)", (self._seq + 1, sid, event.client_id, event.status.value,
                                             event.filled, event.reason, event.venue_order_id, event.ts))
            self.conn.execute(
                "UPDATE orders SET status = ?, filled = MAX(filled, ?), reason = CASE WHEN ? = '' THEN reason "
                "ELSE ? END, venue_order_id = CASE WHEN ? = '' THEN venue_order_id ELSE ? END, updated_ts = ? "
                "WHERE session = ? AND client_id = ?",
                (event.status.value, event.filled, event.reason, event.reason, event.venue_order_id,
                 event.venue_order_id, event.ts, sid, event.client_id))
        elif isinstance(event, Resolution):
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO resolutions (session, slug, seq, winner, ts, final_value, price_to_beat) "
                "VALUES (?,?,?,?,?,?,?)", (sid, event.slug, self._seq + 1, event.winner.value, event.ts,
                                           event.final_value, event.price_to_beat))
        else:
            return True
        if cur.rowcount == 0:
            return False
        self._seq += 1
        self._dirty = True
        return True

    def cycle_done(self, cycle: int, now: float) -> None:
        if self._dirty:
            self._write_positions()
        if self.limiter is not None and self.limiter.dirty:
            self.save_buckets(self.limiter.export())
        self.commit()

    def control_applied(self, revision: int, mode: str, wall: float) -> None:
        self._begin()
        self.conn.execute("INSERT INTO control_revisions (session, revision, mode, applied_wall) VALUES (?,?,?,?)",
                          (self._sid, revision, mode, wall))

    def strategy_generations(self, strategies: Iterable[dict[str, Any]]) -> None:
        """Record each generation named in status-shaped strategy entries (live and history)."""
        self._begin()
        for entry in strategies:
            for gen in [*entry.get("history", []), entry]:
                self.conn.execute("INSERT OR IGNORE INTO strategy_generations (session, module, generation, "
                                  "sha256, loaded_at) VALUES (?,?,?,?,?)",
                                  (self._sid, entry["name"], int(gen["generation"]), str(gen["hash"]),
                                   float(gen["loaded_at"])))
        self.commit()  # the engine calls this between cycles, after the cycle's own commit

    def close(self) -> None:
        if self.conn is None:
            return
        if self._dirty:
            self._write_positions()
        if self.limiter is not None:
            self.save_buckets(self.limiter.export())
        if self.session is not None:
            self._begin()
            self.conn.execute("UPDATE sessions SET ended_wall = ? WHERE id = ?", (time.time(), self._sid))
        self.commit()
        self.conn.close()
        self.conn = None  # type: ignore[assignment]
        os.close(self._lock_fd)

    # -- recovery and rate limits --------------------------------------------------

    def mark_order(self, client_id: str, status: OrderStatus, reason: str, ts: float) -> OrderUpdate:
        """A local verdict on an order (e.g. abandoned after a restart), journaled like a venue update."""
        update = OrderUpdate(client_id, status, ts, reason)
        self.trading_event(update)
        return update

    def save_buckets(self, rows: Iterable[tuple[str, float, float, float, float]]) -> None:
        self._begin()
        self.conn.executemany("INSERT OR REPLACE INTO rate_buckets (session, endpoint, window_s, capacity, tokens, "
                              "updated_at) VALUES (?,?,?,?,?,?)", [(self._sid, *r) for r in rows])

    def save_limiter(self) -> None:
        """The attached limiter's budgets, committed now (before the call that spent them goes out)."""
        if self.limiter is not None:
            self.save_buckets(self.limiter.export())
            self.commit()

    def load_buckets(self) -> list[tuple[str, float, float, float, float]]:
        return [tuple(r) for r in self.conn.execute(  # type: ignore[misc]
            "SELECT endpoint, window_s, capacity, tokens, updated_at FROM rate_buckets WHERE session = ?",
            (self._sid,))]

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read rows of this connection (recovery's replay); parameters bound, never formatted in."""
        return self.conn.execute(sql, params).fetchall()

    def commit(self) -> None:
        if self._in_tx:
            self.conn.execute("COMMIT")
            self._in_tx = False

    # -- internals -------------------------------------------------------------------

    @property
    def _sid(self) -> int:
        if self.session is None:
            raise RuntimeError("journal: begin_session() first")
        return self.session.id

    def _begin(self) -> None:
        if not self._in_tx:
            self.conn.execute("BEGIN IMMEDIATE")
            self._in_tx = True

    def _end_open_orders(self, session: int, ts: float, reason: str) -> None:
        final = tuple(s.value for s in OrderStatus if s.is_final)
        marks = ",".join("?" * len(final))
        for (cid,) in self.conn.execute(f"SELECT client_id FROM orders WHERE session = ? AND status NOT IN ({marks})",
                                        (session, *final)).fetchall():
            self._seq += 1
            self.conn.execute("INSERT INTO order_events (seq, session, client_id, status, filled, reason, "
                              "venue_order_id, ts) SELECT ?, session, client_id, ?, filled, ?, venue_order_id, ? "
                              "FROM orders WHERE session = ? AND client_id = ?",
                              (self._seq, OrderStatus.CANCELLED.value, reason, ts, session, cid))
            self.conn.execute("UPDATE orders SET status = ?, reason = ?, updated_ts = ? WHERE session = ? "
                              "AND client_id = ?", (OrderStatus.CANCELLED.value, reason, ts, session, cid))

    def _write_positions(self) -> None:
        pm = self.positions
        self._dirty = False
        if pm is None:
            return
        sid = self._sid
        self._begin()
        self.conn.execute("DELETE FROM positions WHERE session = ?", (sid,))
        self.conn.executemany(
            "INSERT INTO positions (session, slot_id, slug, asset, timeframe, up_shares, down_shares, cost, fees) "
            "VALUES (?,?,?,?,?,?,?,?,?)",
            [(sid, p.slot_id, p.slug, p.asset, p.timeframe, p.up_shares, p.down_shares, p.cost, p.fees)
             for p in pm.positions.values()])
        new = pm.totals.trades - self._trades_written
        if new > 0:
            for t in list(pm.history)[-new:]:
                self.conn.execute(
                    "INSERT INTO trades (session, slot_id, slug, asset, timeframe, outcome, winner, shares, cost, "
                    "fees, payout, pnl, closed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (sid, t.slot_id, t.slug, t.asset, t.timeframe, t.outcome.value, t.winner.value, t.shares,
                     t.cost, t.fees, t.payout, t.pnl, t.closed_at))
            self._trades_written = pm.totals.trades
