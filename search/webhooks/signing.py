"""Signing webhook payloads, and checking a signature as a receiver should.

The header is `Rcu-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
HMAC-SHA256(secret, "<t>." + body) over the exact bytes of the body. The timestamp is inside the
signed text, so a captured delivery cannot be replayed later with a fresh time: a receiver checks
the digest in constant time and refuses a timestamp further than a few minutes from its clock.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Rcu-Signature"
DELIVERY_HEADER = "Rcu-Delivery"
SCHEME = "v1"
TOLERANCE_S = 300  # how far a receiver's clock may be from the signing time


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """The header value signing `body` at `timestamp`."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},{SCHEME}={digest}"


def verify(secret: bytes, header: str, body: bytes, now: float, tolerance_s: float = TOLERANCE_S) -> bool:
    """Whether `header` signs `body` with `secret`, at a time within `tolerance_s` of `now`."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    expected = signature(secret, timestamp, body).rsplit("=", 1)[1]
    return hmac.compare_digest(expected, parts.get(SCHEME, ""))
