"""What the engine asks of a journal; NullJournal keeps nothing (tests, benchmarks)."""

from __future__ import annotations

from typing import Any, Iterable, Protocol

from nonstop.venues.base import Event, OrderRequest


class JournalLike(Protocol):
    def order_intent(self, order: OrderRequest, now: float) -> None:
        """Written before the order is sent (journal first)."""

    def trading_event(self, event: Event) -> bool:
        """Record an order update, fill or resolution; False if already recorded (a duplicate fill)."""

    def cycle_done(self, cycle: int, now: float) -> None: ...

    def control_applied(self, revision: int, mode: str, wall: float) -> None:
        """A control revision the engine applied."""

    def strategy_generations(self, strategies: Iterable[dict[str, Any]]) -> None:
        """The registry's status entries, given (between cycles) when a generation changed; committed at once."""

    def close(self) -> None: ...


class NullJournal:
    def order_intent(self, order: OrderRequest, now: float) -> None:
        pass

    def trading_event(self, event: Event) -> bool:
        return True

    def cycle_done(self, cycle: int, now: float) -> None:
        pass

    def control_applied(self, revision: int, mode: str, wall: float) -> None:
        pass

    def strategy_generations(self, strategies: Iterable[dict[str, Any]]) -> None:
        pass

    def close(self) -> None:
        pass
