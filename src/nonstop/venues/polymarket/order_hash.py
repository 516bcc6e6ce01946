"""The CLOB V2 order id: the EIP-712 hash of the signed order struct (and its signer).

Polymarket identifies an order by the EIP-712 digest of the 11 signed fields, so the id is known
*before* the order is posted. The adapter uses that to journal `client_id -> order id` first and
to resend the very same signed order after a lost answer (the venue refuses the duplicate instead
of placing it twice); the loopback fake uses the same function to name orders and to check that
the SDK's signature recovers to the order's signer. Struct and domain per the V2 migration docs.
"""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils.crypto import keccak

DOMAIN_NAME = "Polymarket CTF Exchange"
DOMAIN_VERSION = "2"
CHAIN_ID = 137
STANDARD_EXCHANGE = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE = "0xe2222d279d744050d28e00520010520000310F59"

_ORDER_FIELDS = [
    {"name": "salt", "type": "uint256"},
    {"name": "maker", "type": "address"},
    {"name": "signer", "type": "address"},
    {"name": "tokenId", "type": "uint256"},
    {"name": "makerAmount", "type": "uint256"},
    {"name": "takerAmount", "type": "uint256"},
    {"name": "side", "type": "uint8"},
    {"name": "signatureType", "type": "uint8"},
    {"name": "timestamp", "type": "uint256"},
    {"name": "metadata", "type": "bytes32"},
    {"name": "builder", "type": "bytes32"},
]
_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def typed_data(order: dict[str, Any], neg_risk: bool = False, chain_id: int = CHAIN_ID) -> dict[str, Any]:
    """EIP-712 typed data of a wire order (the `order` object of a POST /order body)."""
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "Order": _ORDER_FIELDS},
        "primaryType": "Order",
        "domain": {"name": DOMAIN_NAME, "version": DOMAIN_VERSION, "chainId": chain_id,
                   "verifyingContract": NEG_RISK_EXCHANGE if neg_risk else STANDARD_EXCHANGE},
        "message": {
            "salt": int(order["salt"]),
            "maker": order["maker"],
            "signer": order["signer"],
            "tokenId": int(order["tokenId"]),
            "makerAmount": int(order["makerAmount"]),
            "takerAmount": int(order["takerAmount"]),
            "side": 0 if order["side"] == "BUY" else 1,
            "signatureType": int(order["signatureType"]),
            "timestamp": int(order["timestamp"]),
            "metadata": order["metadata"],
            "builder": order["builder"],
        },
    }


def order_id(order: dict[str, Any], neg_risk: bool = False) -> str:
    """0x-prefixed hex digest: the venue's orderID for this signed order."""
    msg = encode_typed_data(full_message=typed_data(order, neg_risk))
    return "0x" + keccak(b"\x19" + msg.version + msg.header + msg.body).hex()


def recover_signer(order: dict[str, Any], neg_risk: bool = False) -> str:
    msg = encode_typed_data(full_message=typed_data(order, neg_risk))
    return str(Account.recover_message(msg, signature=order["signature"]))


def signed_order_json(signed: Any) -> dict[str, Any]:
    """The wire `order` object of an SDK SignedOrder (the fields POST /order sends)."""
    return {
        "salt": signed.salt, "maker": signed.maker, "signer": signed.signer, "tokenId": str(signed.token_id),
        "makerAmount": str(signed.maker_amount), "takerAmount": str(signed.taker_amount), "side": signed.side,
        "signatureType": signed.signature_type, "timestamp": str(signed.timestamp), "metadata": signed.metadata,
        "builder": signed.builder, "expiration": str(signed.expiration), "signature": signed.signature,
    }
