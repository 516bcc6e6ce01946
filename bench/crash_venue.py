"""The crash bench's view of the venue: a `nonstop sim-exchange` process and one account's records,
read the way any Polymarket client reads them (L1 headers to derive the API key, L2 HMAC on the
account reads), plus the fake's own `/nonstop/state` summary."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import httpx

from nonstop.venues.exchange_server.launch import launch

END = "LTE="


@dataclass
class FakeProcess:
    proc: subprocess.Popen[str]
    url: str

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def start_fake(seed: int, speed: float) -> FakeProcess:
    try:
        proc, url = launch("--seed", str(seed), "--speed", f"{speed:g}", "--assets", "BTC,ETH", "--timeframes", "5m",
                           "--settle", "0.5", "--confirm", "1")
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    return FakeProcess(proc, url)


class VenueAccount:
    def __init__(self, url: str, private_key: str) -> None:
        from eth_account import Account

        self.url = url
        self.address = Account.from_key(private_key).address
        ts = str(int(time.time()))
        l1 = {"POLY_ADDRESS": self.address, "POLY_SIGNATURE": "0x" + "00" * 65, "POLY_TIMESTAMP": ts,
              "POLY_NONCE": "0"}
        creds = httpx.get(f"{url}/auth/derive-api-key", headers=l1, timeout=10).json()
        self.key, self.secret, self.passphrase = creds["apiKey"], creds["secret"], creds["passphrase"]
        self.start = float(self.state()["collateral"])

    def state(self) -> dict[str, Any]:
        accounts = httpx.get(f"{self.url}/nonstop/state", timeout=10).json()["accounts"]
        return accounts.get(self.key, {"collateral": 10_000.0, "orders": 0, "open_orders": 0, "trades": 0,
                                       "tokens": {}})

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        ts = str(int(time.time()))
        raw = base64.urlsafe_b64decode(self.secret + "=" * (-len(self.secret) % 4))
        sig = base64.urlsafe_b64encode(hmac.new(raw, f"{ts}GET{path}".encode(), hashlib.sha256).digest()).decode()
        headers = {"POLY_ADDRESS": self.address, "POLY_SIGNATURE": sig, "POLY_TIMESTAMP": ts,
                   "POLY_API_KEY": self.key, "POLY_PASSPHRASE": self.passphrase}
        return httpx.get(f"{self.url}{path}", params=params, headers=headers, timeout=10)

    def trades(self) -> list[dict[str, Any]]:
        out, cursor = [], "MA=="
        while cursor != END:
            body = self._get("/data/trades", {"next_cursor": cursor}).json()
            out += body["data"]
            cursor = body["next_cursor"]
        return out

    def fill_ids(self) -> set[str]:
        """The account's legs of its settled trades, named as the adapter names fills: `{trade id}:{order id}`."""
        out = set()
        for t in self.trades():
            if t["status"] not in ("MINED", "CONFIRMED"):
                continue
            if t["trader_side"] == "TAKER":
                out.add(f"{t['id']}:{t['taker_order_id']}")
            else:
                out.update(f"{t['id']}:{m['order_id']}" for m in t["maker_orders"] if m["owner"] == self.key)
        return out

    def unsettled(self) -> int:
        return sum(t["status"] not in ("MINED", "CONFIRMED", "FAILED") for t in self.trades())

    def has_order(self, order_id: str) -> bool:
        return self._get(f"/data/order/{order_id}").status_code == 200
