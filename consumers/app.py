"""Wiring: build the live consumer's parts from the settings."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

import redis

from consumers.dlq import DeadLetterSink, KafkaDeadLetters
from consumers.observe import ConsumerObserver
from consumers.pipeline import BatchHook, BatchProcessor
from consumers.sink import RedisSink
from inference.scorer import Scorer
from sentimon.contract import Limits
from sentimon.kafka_config import client_config
from sentimon.keys import REGISTRY, Keys
from sentimon.redis_client import connect
from sentimon.settings import Settings

log = logging.getLogger(__name__)


def limits_of(settings: Settings) -> Limits:
    return Limits(settings.max_message_bytes, settings.max_text_chars, settings.max_tickers)


def make_producer(settings: Settings, client_id: str = "sentimon-producer") -> Any:
    from kafka import KafkaProducer

    return KafkaProducer(
        **client_config(settings, client_id),
        acks="all",
        linger_ms=5,
        max_request_size=max(2 * settings.max_message_bytes, 1024 * 1024),
    )


def build_processor(
    settings: Settings,
    scorer: Scorer,
    *,
    client: redis.Redis | None = None,
    namespace: str | None = None,
    dead_letters: DeadLetterSink | None = None,
    hooks: Sequence[BatchHook] | None = None,
) -> BatchProcessor:
    """The batch processor for ``settings``. Without explicit ``hooks`` it gets the alert
    hook from the settings (rules file or the shipped defaults; none if alerts are off)."""
    client = client or connect(settings)
    keys = Keys(namespace or settings.namespace)
    client.sadd(REGISTRY, keys.namespace)
    if hooks is None:
        from sentimon.alerts.hook import AlertHook

        alert_hook = AlertHook.from_settings(settings, client, keys)
        hooks = [alert_hook] if alert_hook is not None else []
    return BatchProcessor(
        scorer,
        RedisSink(client, keys, dedup_horizon_s=settings.dedup_horizon_s),
        dead_letters or KafkaDeadLetters(lambda: make_producer(settings, "sentimon-dlq")),
        keys=keys,
        limits=limits_of(settings),
        retention_s=settings.retention_s,
        recent_posts=settings.recent_posts,
        kind_of={topic: settings.kind_of(topic) for topic in settings.topics},
        hooks=hooks,
    )


class HealthReporter:
    """Writes this consumer's health snapshot to Redis every few seconds (for `status`)."""

    def __init__(
        self, client: redis.Redis, keys: Keys, observer: ConsumerObserver, every_s: float = 2.0
    ) -> None:
        self.client, self.keys, self.observer = client, keys, observer
        self.every_s = every_s
        self.consumer_id = f"{socket.gethostname()}-{os.getpid()}"
        self._next = 0.0
        self._last: tuple[float, int] | None = None

    def tick(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if now < self._next and not force:
            return
        self._next = now + self.every_s
        try:
            self.client.hset(self.keys.health, self.consumer_id, json.dumps(self.snapshot()))
        except redis.RedisError:
            log.debug("health snapshot not written (Redis unavailable)")

    def snapshot(self) -> dict[str, Any]:
        loop = self.observer.loop
        stats = loop.stats
        now = time.monotonic()
        lag = self.observer.current_lag
        # Throughput since the previous snapshot (a lifetime average reads low after idle).
        since, before = self._last or (stats.first_poll or stats.started, 0)
        rate = (stats.records - before) / max(now - since, 1e-9)
        self._last = (now, stats.records)
        return {
            "ts": int(time.time() * 1000),
            "model": self.observer.model_id,
            "records": stats.records,
            "scored": stats.scored,
            "invalid": stats.invalid,
            "batches": stats.batches,
            "rate": round(rate, 2),
            "last_batch_ts": int(stats.last_batch_wall * 1000) if stats.last_batch_wall else None,
            "lag": {f"{t}:{p}": n for (t, p), (n, _) in sorted(lag.items())},
            "lag_seconds": {f"{t}:{p}": s for (t, p), (_, s) in sorted(lag.items())},
            "assignment": [f"{t}:{p}" for t, p in self.observer.source.assignment()],
        }
