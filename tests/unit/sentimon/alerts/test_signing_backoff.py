"""HMAC signatures and retry backoff."""

from __future__ import annotations

import random

from sentimon.alerts import verify_signature
from sentimon.alerts.backoff import Backoff
from sentimon.alerts.signing import sign


def test_signature_verifies_only_with_the_secret_and_the_exact_body():
    body = b'{"id":"a","status":"firing"}'
    header = sign(body, "s3cret")
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature(body, header, "s3cret")
    assert not verify_signature(body, header, "other")
    assert not verify_signature(body + b" ", header, "s3cret")
    assert not verify_signature(body, None, "s3cret")
    assert not verify_signature(body, header.removeprefix("sha256="), "s3cret")


def test_backoff_grows_jitters_and_caps():
    policy = Backoff(base_s=1.0, cap_s=10.0, max_attempts=3)
    rng = random.Random(1)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (9, 10.0)):
        delays = [policy.delay(retry, rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jitter
    assert policy.delay(1, rng, retry_after_s=5.0) >= 5.0
    assert policy.delay(1, rng, retry_after_s=500.0) <= 10.0
    assert not policy.exhausted(2) and policy.exhausted(3)
