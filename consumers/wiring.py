"""Wiring: build the live consumer's parts from the settings."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Sequence
from typing import Any

import redis

from consumers.dlq import DeadLetterSink, KafkaDeadLetters
from consumers.dlq_once import PublishOnce
from consumers.model_health import ModelHealth
from consumers.observe import ConsumerObserver
from consumers.pipeline import BatchHook, BatchProcessor
from inference.locate import resolve
from inference.posts import linker_of
from inference.scorer import Scorer
from sentimon.alerts.drift_rule import DriftAlerts
from sentimon.alerts.hook import AlertHook
from sentimon.contract import Limits
from sentimon.errors import ModelError
from sentimon.eventtime import EventTimePolicy
from sentimon.health_window import HealthSnapshot, summary_fields
from sentimon.kafka_config import client_config
from sentimon.keys import REGISTRY, Keys
from sentimon.settings import Settings
from sentimon.store.client import RedisState, connect, is_transient, retry_until_ok
from sentimon.store.dlq_marks import DeadLetterLedger
from sentimon.store.health_summary import model_health_fields, queue_model_health
from sentimon.store.sink import RedisSink
from sentimon.store.stories import StoryIndex

log = logging.getLogger(__name__)


def limits_of(settings: Settings) -> Limits:
    return Limits(settings.max_message_bytes, settings.max_text_chars, settings.max_tickers)


def make_producer(settings: Settings, client_id: str = "sentimon-producer") -> Any:
    from kafka import KafkaProducer  # noqa: PLC0415 (heavy: loaded only when used)

    return KafkaProducer(
        **client_config(settings, client_id),
        acks="all",
        linger_ms=5,
        max_request_size=max(2 * settings.max_message_bytes, 1024 * 1024),
    )


def make_consumer(settings: Settings, client_id: str = "sentimon-reader") -> Any:
    """A consumer outside any group (manual assignment, never commits)."""
    from kafka import KafkaConsumer  # noqa: PLC0415 (heavy: loaded only when used)

    return KafkaConsumer(
        **client_config(settings, client_id),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


def live_event_time(settings: Settings) -> EventTimePolicy:
    """The live consumer's event-time bounds, relative to processing time."""
    return EventTimePolicy.live(
        max_ahead_s=settings.event_time_max_ahead_s,
        max_behind_s=settings.event_time_max_behind_s,
    )


def kafka_dead_letters(settings: Settings, client: redis.Redis, keys: Keys) -> DeadLetterSink:
    """Dead letters to ``<topic>.dlq``, each published once (``consumers.dlq_once``)."""
    topic = KafkaDeadLetters(
        lambda: make_producer(settings, "sentimon-dlq"),
        consumer_factory=lambda: make_consumer(settings, "sentimon-dlq-check"),
    )
    return PublishOnce(topic, DeadLetterLedger(client, keys), topic)


def build_processor(
    settings: Settings,
    scorer: Scorer,
    *,
    client: redis.Redis | None = None,
    namespace: str | None = None,
    dead_letters: DeadLetterSink | None = None,
    hooks: Sequence[BatchHook] | None = None,
    stop: threading.Event | None = None,
    redis_state: RedisState | None = None,
    event_time: EventTimePolicy | None = None,
) -> BatchProcessor:
    """The batch processor for ``settings``. Without explicit ``hooks`` it gets the alert
    hook from the settings (rules file or the shipped defaults; none if alerts are off).
    Without ``event_time`` it trusts the live bounds of the settings (replays pass their
    range); without ``dead_letters`` it publishes to the dead-letter topics, once each.

    With ``stop`` (a long-running process) registering the namespace in Redis is retried
    with capped backoff while Redis is busy, loading or unreachable, until it succeeds or
    ``stop`` is set (``sentimon.store.client.StopRequestedError``); without, it is one
    call."""
    client = client or connect(settings)
    keys = Keys(namespace or settings.namespace)
    register = lambda: client.sadd(REGISTRY, keys.namespace)  # noqa: E731
    if stop is None:
        register()
    else:
        retry_until_ok(
            register,
            what="registering the namespace",
            state=redis_state or RedisState(),
            stop=stop,
        )
    drift = None
    if hooks is None:
        alert_hook = AlertHook.from_settings(settings, client, keys)
        hooks = [alert_hook] if alert_hook is not None else []
        if alert_hook is not None:
            drift = DriftAlerts.of(
                alert_hook.rules, client, keys, history_max=settings.alerts_history_max
            )
    return BatchProcessor(
        scorer,
        RedisSink(client, keys, dedup_horizon_s=settings.dedup_horizon_s),
        dead_letters or kafka_dead_letters(settings, client, keys),
        keys=keys,
        limits=limits_of(settings),
        retention_s=settings.retention_s,
        recent_posts=settings.recent_posts,
        kind_of={topic: settings.kind_of(topic) for topic in settings.topics},
        hooks=hooks,
        event_time=event_time or live_event_time(settings),
        linker=linker_of(settings),
        stories=StoryIndex(client, keys, horizon_s=settings.story_horizon_s)
        if settings.stories_enabled
        else None,
        health=model_health(settings, drift),
        min_confidence=settings.min_confidence,
    )


def model_health(settings: Settings, drift: DriftAlerts | None = None) -> ModelHealth:
    """The model-health window of ``settings``' model (its reference profile and
    vocabulary where it is a local directory that has them)."""
    try:
        model_dir = resolve(settings.model, settings.model_cache).local_dir
    except ModelError:
        model_dir = None
    return ModelHealth.for_model(
        model_dir, size=settings.health_window, low_confidence=settings.low_confidence, drift=drift
    )


class HealthReporter:
    """Writes this consumer's health snapshot to Redis every few seconds (for `status`).

    The write doubles as a probe of Redis while no batch is written: a transient failure
    marks Redis unavailable in the loop's ``RedisState``, a success marks it available.
    While it is unavailable the snapshot is tried only every ``_RETRY_S`` (on a hung
    Redis each try holds the loop thread for a socket timeout); the first one written
    afterwards carries the outage (``redis.last_outage``)."""

    _RETRY_S = 10.0

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        observer: ConsumerObserver,
        every_s: float = 2.0,
        model_health: ModelHealth | None = None,
    ) -> None:
        self.client, self.keys, self.observer = client, keys, observer
        #: Whose summary goes to ``Keys.model_health`` with each snapshot (when changed).
        self.model_health = model_health
        self.every_s = every_s
        self.consumer_id = f"{socket.gethostname()}-{os.getpid()}"
        self._next = 0.0
        self._last: tuple[float, int] | None = None
        self._health_written: HealthSnapshot | None = None

    def tick(self, *, force: bool = False) -> None:
        """Write the snapshot when due (``force``: now, unless Redis is unavailable)."""
        state = self.observer.loop.redis
        now = time.monotonic()
        if now < self._next and not (force and state.ok):
            return
        was_ok = state.ok
        snapshot = self.snapshot()
        try:
            self._write(snapshot)
        except redis.RedisError as exc:
            self._next = now + max(self.every_s, self._RETRY_S)
            if is_transient(exc):
                state.failed(
                    exc, action="writes are retried with backoff, nothing committed", began=now
                )
            else:
                log.debug("health snapshot not written (%s)", exc)
            return
        self._next = now + self.every_s
        state.recovered()
        if not was_ok:  # the snapshot just written still said unavailable
            snapshot["redis"] = state.snapshot()
            with contextlib.suppress(redis.RedisError):
                self._write(snapshot)

    def _write(self, snapshot: dict[str, Any]) -> None:
        """This consumer's snapshot and, when it changed, the model-health summary: one
        round trip."""
        latest = self.model_health.latest if self.model_health is not None else None
        if latest is None or latest is self._health_written:
            self.client.hset(self.keys.health, self.consumer_id, json.dumps(snapshot))
            return
        pipe = self.client.pipeline(transaction=False)
        pipe.hset(self.keys.health, self.consumer_id, json.dumps(snapshot))
        queue_model_health(
            pipe,
            self.keys,
            model_health_fields(
                summary_fields(latest),
                consumer=self.consumer_id,
                model=self.observer.model_id,
                now_ms=int(time.time() * 1000),
            ),
        )
        pipe.execute()
        self._health_written = latest

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
            "redis": loop.redis.snapshot(),
        }
