"""The Kafka sink: each notice as one record on the ``alerts`` topic.

Key: the entity (so one entity's notices stay ordered within a partition); value: the
payload JSON; headers ``idempotency-key`` (the event id) and ``sentimon-namespace``. The
producer is created lazily and re-created after a failure, with bounded blocking so an
unreachable broker is a retryable error, never a stuck dispatcher.
"""

from __future__ import annotations

import logging
from typing import Any

from sentimon.alerts.sinks import DeliveryError
from sentimon.kafka_config import client_config
from sentimon.settings import Settings
from sentimon.topics import ALERTS_TOPIC

log = logging.getLogger(__name__)


class KafkaSink:
    name = "kafka"

    def __init__(
        self, settings: Settings, *, topic: str = ALERTS_TOPIC, timeout_s: float = 5.0
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.timeout_s = timeout_s
        self._producer: Any = None

    def describe(self) -> str:
        return f"kafka topic {self.topic} at {self.settings.kafka_bootstrap}"

    def _connect(self) -> Any:
        if self._producer is None:
            from kafka import KafkaProducer  # noqa: PLC0415 (heavy: loaded only when used)

            timeout_ms = int(self.timeout_s * 1000)
            self._producer = KafkaProducer(
                **client_config(self.settings, "sentimon-alerts"),
                acks="all",
                max_block_ms=timeout_ms,
                request_timeout_ms=max(timeout_ms, 1000),
                delivery_timeout_ms=max(2 * timeout_ms, 2000),
            )
        return self._producer

    def deliver(self, event_id: str, body: str, payload: dict[str, Any]) -> None:
        from kafka.errors import KafkaError  # noqa: PLC0415 (heavy: loaded only when used)

        try:
            producer = self._connect()
            future = producer.send(
                self.topic,
                key=str(payload.get("entity", "")).encode(),
                value=body.encode("utf-8"),
                headers=[
                    ("idempotency-key", event_id.encode()),
                    ("sentimon-namespace", str(payload.get("namespace", "")).encode()),
                ],
            )
            future.get(timeout=self.timeout_s * 2)
        except (KafkaError, OSError) as exc:
            self.close()
            raise DeliveryError(f"kafka {self.topic}: {type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception as exc:  # closing a broken producer must not mask the error
                log.debug("closing the alerts producer failed: %s", exc)
            self._producer = None
