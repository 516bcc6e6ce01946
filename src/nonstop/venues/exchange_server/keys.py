"""API keys and request authentication as the CLOB does them (L1 wallet headers, L2 HMAC).

Keys are derived from (address, nonce), so a bot that crashes and derives its key again gets the
same key and finds its orders, fills and balances where it left them. L2 requests are checked
like the venue checks them: HMAC-SHA256 over `timestamp + METHOD + path + body` with the
urlsafe-base64 secret. L1 signatures are not verified (headers must be present); order
signatures are verified on POST /order instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field

_NS = uuid.UUID("6f1c2d1e-6a4b-4f43-9c6e-4e6f6e73746f")  # "nonsto..." namespace for key ids


@dataclass
class ApiCreds:
    key: str
    secret: str
    passphrase: str
    address: str  # the signer (EOA) that owns the key, lowercase


@dataclass
class KeyStore:
    by_key: dict[str, ApiCreds] = field(default_factory=dict)

    def derive(self, address: str, nonce: int) -> ApiCreds:
        addr = address.lower()
        seed = f"{addr}:{nonce}"
        key = str(uuid.uuid5(_NS, seed))
        creds = self.by_key.get(key)
        if creds is None:
            secret = base64.urlsafe_b64encode(hashlib.sha256(f"secret:{seed}".encode()).digest()).decode()
            passphrase = hashlib.sha256(f"pass:{seed}".encode()).hexdigest()[:32]
            creds = ApiCreds(key, secret, passphrase, addr)
            self.by_key[key] = creds
        return creds

    def exists(self, address: str, nonce: int) -> bool:
        return str(uuid.uuid5(_NS, f"{address.lower()}:{nonce}")) in self.by_key

    def keys_of(self, address: str) -> list[str]:
        return [c.key for c in self.by_key.values() if c.address == address.lower()]


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str | None) -> str:
    message = f"{timestamp}{method}{path}" + (body or "")
    raw = base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))
    return base64.urlsafe_b64encode(hmac.new(raw, message.encode(), hashlib.sha256).digest()).decode()


def check_l2(store: KeyStore, headers: dict[str, str], method: str, path: str, body: str | None) -> ApiCreds | str:
    """The caller's credentials, or the reason the request is unauthorized."""
    h = {k.upper(): v for k, v in headers.items()}
    needed = ("POLY_ADDRESS", "POLY_SIGNATURE", "POLY_TIMESTAMP", "POLY_API_KEY", "POLY_PASSPHRASE")
    if any(not h.get(name) for name in needed):
        return "Unauthorized/Invalid api key"
    creds = store.by_key.get(h["POLY_API_KEY"])
    if creds is None or creds.passphrase != h["POLY_PASSPHRASE"] or creds.address != h["POLY_ADDRESS"].lower():
        return "Unauthorized/Invalid api key"
    expected = hmac_signature(creds.secret, h["POLY_TIMESTAMP"], method, path, body)
    if not hmac.compare_digest(expected, h["POLY_SIGNATURE"]):
        return "Unauthorized/Invalid api key"
    return creds


def l1_address(headers: dict[str, str]) -> tuple[str, int] | None:
    h = {k.upper(): v for k, v in headers.items()}
    if not (h.get("POLY_ADDRESS") and h.get("POLY_SIGNATURE") and h.get("POLY_TIMESTAMP")):
        return None
    try:
        nonce = int(h.get("POLY_NONCE") or "0")
    except ValueError:
        return None
    return h["POLY_ADDRESS"], nonce
