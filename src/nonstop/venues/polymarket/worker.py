"""The venue's I/O thread: one asyncio loop running the SDK's clients, off the decision loop.

The engine thread never waits on the network: it submits coroutines (`submit`) and drains what
they produced from a thread-safe outbox in `poll()`. Only `call()` blocks, and only at start-up
(credentials, balances) where waiting is the point.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from typing import Any, Awaitable, Callable, Coroutine, Sequence, TypeVar

log = logging.getLogger("nonstop.polymarket")
T = TypeVar("T")


class Worker:
    def __init__(self, name: str = "polymarket-io") -> None:
        self.outbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def put(self, kind: str, payload: Any) -> None:
        """Hand something to the engine thread (safe from any thread)."""
        self.outbox.put((kind, payload))

    def drain(self) -> list[tuple[str, Any]]:
        out = []
        while True:
            try:
                out.append(self.outbox.get_nowait())
            except queue.Empty:
                return out

    def submit(self, coro: Coroutine[Any, Any, Any], what: str = "") -> None:
        """Run `coro` on the I/O loop; an exception is reported to the engine as ("error", text)."""
        self.loop.call_soon_threadsafe(self._spawn, coro, what)

    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._done(t, what))

    def _done(self, task: asyncio.Task[Any], what: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.warning("%s failed: %r", what or "task", exc)
            self.put("error", f"{what or 'polymarket task'}: {type(exc).__name__}: {exc}")

    def call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        """Run `coro` and wait for its result (start-up only)."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"no answer within {timeout:g} s") from None

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self.loop.call_soon_threadsafe(fn, *args)

    def stop(self, closers: Sequence[Callable[[], Awaitable[Any]]], timeout: float = 3.0) -> None:
        async def shutdown() -> None:
            me = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not me]
            for task in rest:  # stop our loops first, so none uses a client being closed
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
            for close in closers:
                try:
                    await asyncio.wait_for(close(), timeout)
                except Exception:  # closing is best effort; the process may be exiting
                    pass
            rest = [t for t in asyncio.all_tasks() if t is not me]  # what closing started (SDK internals)
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        if self.loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout + 1)
            except Exception:
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)
