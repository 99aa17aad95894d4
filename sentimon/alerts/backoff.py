"""Retry delays (pure): exponential backoff with jitter.

Attempt ``n`` (1 = the first retry) waits a random time in ``[d/2, d]`` with
``d = min(cap, base * 2**(n-1))`` ("equal jitter"): retries spread out so receivers
coming back are not hit by every dispatcher at once, yet never retry immediately.
A receiver's ``Retry-After`` raises the delay (never above the cap).
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_s: float = 0.5
    cap_s: float = 60.0
    max_attempts: int = 8

    def delay(self, retry: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(retry - 1, 0))
        delay = rng.uniform(ceiling / 2, ceiling)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.cap_s))
        return delay

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
