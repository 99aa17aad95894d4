"""Topic provisioning on any Kafka-protocol cluster (``sentimon topics``, ``stack up``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError

from sentimon.errors import StackError
from sentimon.kafka_config import client_config
from sentimon.settings import Settings

log = logging.getLogger(__name__)

ALERTS_TOPIC = "alerts"


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int = 1
    retention_ms: int | None = None


def default_specs(settings: Settings, replication: int = 1) -> list[TopicSpec]:
    """Input topics with ``settings.partitions``; DLQs and alerts with one partition each."""
    specs = [TopicSpec(t, settings.partitions, replication) for t in settings.topics]
    specs += [TopicSpec(dlq_topic(t), 1, replication) for t in settings.topics]
    specs.append(TopicSpec(ALERTS_TOPIC, 1, replication))
    return specs


def admin(settings: Settings, timeout_s: float = 10.0) -> KafkaAdminClient:
    try:
        return KafkaAdminClient(
            **client_config(settings, "sentimon-admin"), request_timeout_ms=int(timeout_s * 1000)
        )
    except KafkaTimeoutError as exc:
        raise StackError(
            f"no Kafka broker answers at {settings.kafka_bootstrap}: start one "
            "(`sentimon stack up`) or set SENTIMON_KAFKA_BOOTSTRAP"
        ) from exc


def create_topics(settings: Settings, specs: list[TopicSpec]) -> list[str]:
    """Create missing topics; returns the names created. Existing topics are left alone."""
    client = admin(settings)
    try:
        existing = set(client.list_topics())
        new = [
            NewTopic(
                s.name,
                s.partitions,
                s.replication,
                topic_configs={"retention.ms": str(s.retention_ms)} if s.retention_ms else {},
            )
            for s in specs
            if s.name not in existing
        ]
        if new:
            try:
                client.create_topics(new, timeout_ms=10000)
            except TopicAlreadyExistsError:
                pass
        for topic in new:
            log.info("created topic %s (%d partitions)", topic.name, topic.num_partitions)
        return [t.name for t in new]
    except KafkaError as exc:
        raise StackError(f"creating topics failed: {exc}") from exc
    finally:
        client.close()


def describe_topics(settings: Settings, names: list[str] | None = None) -> list[dict[str, Any]]:
    client = admin(settings)
    try:
        names = names or sorted(t for t in client.list_topics() if not t.startswith("__"))
        out = []
        for meta in client.describe_topics(names):
            out.append(
                {
                    "topic": meta["topic"],
                    "partitions": len(meta.get("partitions") or []),
                    "error": meta.get("error_code", 0),
                }
            )
        return out
    finally:
        client.close()
