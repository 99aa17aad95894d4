"""Metrics and health of a running consumer: Prometheus updates per batch, lag, Redis
availability, /healthz."""

from __future__ import annotations

import time
from typing import Any

from consumers.pipeline import BatchResult
from consumers.runner import ConsumeLoop
from consumers.source import KafkaSource
from sentimon import metrics
from sentimon.store.client import UNHEALTHY_AFTER_S

_STALE_S = 60.0


class ConsumerObserver:
    """Feeds ``sentimon.metrics`` from batch results and the source's lag."""

    def __init__(self, loop: ConsumeLoop, source: KafkaSource, model_id: str) -> None:
        self.loop = loop
        self.source = source
        self.model_id = model_id
        self.last_ts: dict[tuple[str, int], int] = {}
        #: Last lag reading, refreshed on the loop thread (the Kafka client is not
        #: thread-safe, so the /healthz thread only reads this copy).
        self.current_lag: dict[tuple[str, int], tuple[int, float]] = {}
        self._next_lag = 0.0
        metrics.MODEL_INFO.info({"model": model_id})

    def on_batch(self, result: BatchResult) -> None:
        for topic, counts in result.per_topic.items():
            metrics.RECORDS.labels(topic).inc(counts["records"])
            metrics.SCORED.labels(topic).inc(counts["scored"])
            metrics.DLQ.labels(topic).inc(counts["dlq"])
            metrics.REPLAYED.labels(topic).inc(0)
        metrics.DUPLICATES.inc(result.duplicates)
        metrics.BATCHES.inc()
        # A write that carried several scored batches (``result.merged``) holds their
        # summed sizes and scoring times: each batch is observed at the group's mean.
        batches = max(result.merged, 1)
        for _ in range(batches):
            metrics.BATCH_SIZE.observe(result.records / batches)
            if "score" in result.timings:
                metrics.INFERENCE_LATENCY.observe(result.timings["score"] / batches)
        if "write" in result.timings:
            metrics.REDIS_WRITE_LATENCY.observe(result.timings["write"])
        now_ms = time.time() * 1000
        if result.update is not None:
            for item in result.update.posts:
                metrics.E2E_LATENCY.observe(max(0.0, (now_ms - item.post.ts_ms) / 1000))
        metrics.LAST_BATCH_TS.set(time.time())
        health = self.loop.processor.health
        if health is not None and health.latest is not None:
            metrics.set_model_health(health.latest)
        self.last_ts.update(result.last_ts)

    def _read_lag(self) -> dict[tuple[str, int], tuple[int, float]]:
        """Per partition: (records behind the high-water mark, seconds behind)."""
        now_ms = time.time() * 1000
        out = {}
        for tp, records in self.source.lag().items():
            seconds = (now_ms - self.last_ts[tp]) / 1000 if records and tp in self.last_ts else 0.0
            out[tp] = (records, round(max(seconds, 0.0), 3))
        return out

    def tick(self) -> None:
        metrics.set_redis_up(self.loop.redis.ok)
        now = time.monotonic()
        if now < self._next_lag:
            return
        self._next_lag = now + 1.0
        self.current_lag = self._read_lag()
        for (topic, partition), (records, seconds) in self.current_lag.items():
            metrics.DEFAULT.set_lag(topic, partition, records, seconds)

    def health(self) -> dict[str, Any]:
        """``/healthz``: unhealthy when batches stall behind lag, after ten failed
        attempts in a row, or once Redis has been unavailable for ``UNHEALTHY_AFTER_S``
        (``redis`` says since when and why)."""
        last = self.loop.stats.last_batch_wall
        idle_ok = (
            last is None
            or time.time() - last < _STALE_S
            or not any(records for records, _ in self.current_lag.values())
        )
        redis = self.loop.redis
        metrics.set_redis_up(redis.ok)
        return {
            "healthy": idle_ok
            and self.loop.stats.retries < 10
            and redis.down_for() < UNHEALTHY_AFTER_S,
            "records": self.loop.stats.records,
            "batches": self.loop.stats.batches,
            "retries": self.loop.stats.retries,
            "last_batch_ts": last,
            "redis": redis.snapshot(),
        }
