"""Raw REST reads the SDK does not expose (Gamma events with all fields, CLOB market info), with
the same back-off policy as orders: 429 waits its Retry-After, 5xx and transport errors back off
exponentially, 404 is an answer (not listed yet), never an error."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from nonstop.venues.polymarket.ratelimit import Limiter


def backoff_s(attempt: int, retry_after: float | None = None) -> float:
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, 30.0)
    return min(0.2 * 2**attempt, 5.0)


class RestReader:
    def __init__(self, timeout_s: float, max_retries: int, limiter: Limiter) -> None:
        self._client = httpx.AsyncClient(timeout=timeout_s)
        self._retries = max_retries
        self._limiter = limiter
        self.retried = 0

    async def get_json(self, url: str, endpoint: str) -> tuple[int, Any]:
        """(status, body): 200 with the JSON, 404 with None; raises after the retries are spent."""
        last: str = ""
        for attempt in range(self._retries + 1):
            await self._limiter.acquire(endpoint)
            try:
                resp = await self._client.get(url)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                self.retried += 1
                await asyncio.sleep(backoff_s(attempt))
                continue
            if resp.status_code == 200:
                return 200, resp.json()
            if resp.status_code == 404:
                return 404, None
            last = f"HTTP {resp.status_code}: {resp.text[:200]}"
            if resp.status_code == 429 or resp.status_code >= 500 or resp.status_code == 425:
                self.retried += 1
                await asyncio.sleep(backoff_s(attempt, _retry_after(resp)))
                continue
            raise RuntimeError(f"GET {url}: {last}")
        raise RuntimeError(f"GET {url}: gave up after {self._retries + 1} attempts ({last})")

    async def limiter_acquire(self, endpoint: str) -> None:
        await self._limiter.acquire(endpoint)

    async def close(self) -> None:
        await self._client.aclose()


def _retry_after(resp: httpx.Response) -> float | None:
    try:
        return float(resp.headers.get("retry-after", ""))
    except ValueError:
        return None
