"""Who listens to what on the fake's sockets, and the outgoing frame queue of each listener."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

CLOSE = object()  # sentinel: the socket handler closes its connection when it dequeues this
_QUEUE_MAX = 20_000  # a listener this far behind is a slow consumer; it is disconnected


@dataclass(eq=False)
class Listener:
    kind: str  # "market" | "user" | "rtds" | "binance"
    queue: asyncio.Queue[Any] = field(default_factory=lambda: asyncio.Queue(maxsize=_QUEUE_MAX))
    assets: set[str] = field(default_factory=set)  # market channel
    custom: bool = False
    api_key: str = ""  # user channel
    markets: set[str] | None = None  # user channel condition ids; None = all
    topics: set[str] = field(default_factory=set)  # rtds topics, binance streams

    def send(self, message: Any) -> None:
        text = message if isinstance(message, str) else json.dumps(message, separators=(",", ":"))
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        while True:
            try:
                self.queue.put_nowait(CLOSE)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()


class Hub:
    def __init__(self) -> None:
        self.listeners: set[Listener] = set()
        self.drops = 0

    def add(self, listener: Listener) -> None:
        self.listeners.add(listener)

    def remove(self, listener: Listener) -> None:
        self.listeners.discard(listener)

    def market(self, tokens: set[str], message: Any, custom_only: bool = False) -> None:
        for lst in self.listeners:
            if lst.kind == "market" and (lst.assets & tokens) and (lst.custom or not custom_only):
                lst.send(message)

    def broadcast_custom(self, message: Any) -> None:
        for lst in self.listeners:
            if lst.kind == "market" and lst.custom:
                lst.send(message)

    def user(self, api_key: str, cid: str, message: Any) -> None:
        for lst in self.listeners:
            if lst.kind == "user" and lst.api_key == api_key and (lst.markets is None or cid in lst.markets):
                lst.send(message)

    def rtds(self, topic: str, message: Any) -> None:
        for lst in self.listeners:
            if lst.kind == "rtds" and topic in lst.topics:
                lst.send(message)

    def binance(self, stream: str, message: Any) -> None:
        for lst in self.listeners:
            if lst.kind == "binance" and stream in lst.topics:
                lst.send(message)

    def drop(self, kind: str) -> int:
        dropped = [lst for lst in self.listeners if lst.kind == kind]
        for lst in dropped:
            lst.close()
        return len(dropped)

    def drop_all(self) -> int:
        """Close every socket (fault injection): clients must reconnect and resync."""
        n = len(self.listeners)
        for lst in list(self.listeners):
            lst.close()
        self.drops += n
        return n
