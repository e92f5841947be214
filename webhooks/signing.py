"""The signature on every delivery, and how a receiver checks it.

`Webhook-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the subscription's secret>`.
A receiver recomputes it over the raw body, compares in constant time, and refuses a timestamp more
than five minutes old, so a captured delivery cannot be replayed by someone else.
"""

import hashlib
import hmac
import time

TOLERANCE_SECONDS = 300


def signature(secret, body, timestamp):
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret, body, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, body, timestamp)}"


def verify(secret, body, header, now=None):
    """True when `header` signs `body` with `secret` within the tolerance: what a receiver does."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(parts.get("v1", ""), signature(secret, body, timestamp))
