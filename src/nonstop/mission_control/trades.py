"""Closed trades for the API: the journal (HOME/journal.sqlite) when it exists, else status.json."""

from __future__ import annotations

from typing import Any

from nonstop.home.paths import Home


def read_trades(home: Home, status: dict[str, Any] | None, limit: int) -> tuple[str, list[dict[str, Any]]]:
    """(source, trades newest first). The journal is opened read-only: the bot is its one writer."""
    if home.journal.exists():
        try:
            from nonstop.state.journal_read import read_trades as journal_trades
        except ImportError:  # a checkout without the journal reader: status.json still knows the recent ones
            pass
        else:
            return "journal", journal_trades(home, limit=limit)
    recent = list((status or {}).get("recent_trades") or [])
    return "status.json", recent[::-1][:limit]
