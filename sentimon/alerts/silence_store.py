"""Silences in Redis (``Keys.alert_silences``): add, list, expire.

A silence is kept after it expires, so ``sentimon alerts list`` shows what was muted and
why; silences that expired more than ``KEEP_EXPIRED_S`` ago are pruned when one is added.
"""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from sentimon.alerts.silences import Matcher, Silence
from sentimon.errors import ConfigError
from sentimon.keys import Keys

KEEP_EXPIRED_S = 7 * 86400


def _now_ms() -> int:
    return int(time.time() * 1000)


class SilenceStore:
    def __init__(self, client: redis.Redis, keys: Keys) -> None:
        self.client: Any = client
        self.keys = keys

    def add(self, matchers: tuple[Matcher, ...], for_s: int, reason: str, by: str = "") -> Silence:
        now = _now_ms()
        silence = Silence.new(matchers, now, for_s, reason, by)
        self.client.hset(self.keys.alert_silences, silence.id, json.dumps(silence.as_dict()))
        self._prune(now)
        return silence

    def all(self) -> list[Silence]:
        raw = self.client.hgetall(self.keys.alert_silences)
        silences = [Silence.from_dict(json.loads(v)) for v in raw.values()]
        return sorted(silences, key=lambda s: s.created_ms, reverse=True)

    def listing(self, now_ms: int | None = None) -> list[dict[str, Any]]:
        """Every recorded silence as a dict, newest first, with ``active`` at ``now_ms``
        (default now)."""
        now = now_ms if now_ms is not None else _now_ms()
        return [{**s.as_dict(), "active": s.active(now)} for s in self.all()]

    def expire(self, silence_id: str) -> Silence:
        """End a silence now (it stays listed as expired)."""
        raw = self.client.hget(self.keys.alert_silences, silence_id)
        if raw is None:
            raise ConfigError(f"no silence {silence_id!r} (see `sentimon alerts list`)")
        data = json.loads(raw)
        data["expires_ms"] = min(int(data["expires_ms"]), _now_ms())
        self.client.hset(self.keys.alert_silences, silence_id, json.dumps(data))
        return Silence.from_dict(data)

    def _prune(self, now_ms: int) -> None:
        cutoff = now_ms - KEEP_EXPIRED_S * 1000
        stale = [s.id for s in self.all() if s.expires_ms < cutoff]
        if stale:
            self.client.hdel(self.keys.alert_silences, *stale)
