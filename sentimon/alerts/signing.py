"""Webhook signatures: ``X-Sentimon-Signature: sha256=<hex HMAC-SHA256 of the body>``.

The HMAC covers the exact body bytes sent, so a receiver must verify the raw request body
before parsing it::

    from sentimon.alerts.signing import verify_signature
    ok = verify_signature(request_body_bytes, request.headers["X-Sentimon-Signature"], secret)
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Sentimon-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
_PREFIX = "sha256="


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(body: bytes, secret: str | bytes) -> str:
    """The signature header value for ``body``."""
    return _PREFIX + hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str | bytes) -> bool:
    """True if ``header`` is the signature of ``body`` under ``secret`` (constant time)."""
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(body, secret), header.strip())
