"""Topic provisioning on any Kafka-protocol cluster (``sentimon topics``, ``stack up``).

Creating is idempotent: topics that already exist are left alone (never altered), and the
report says when an existing topic has fewer partitions than asked for, since adding
partitions is an operator's decision (it moves keys between partitions).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, for_code

from sentimon.errors import StackError
from sentimon.kafka_config import client_config
from sentimon.settings import Settings

log = logging.getLogger(__name__)

ALERTS_TOPIC = "alerts"
_ALREADY_EXISTS = 36  # TOPIC_ALREADY_EXISTS
_CREATE_TIMEOUT_MS = 10_000
_ADMIN_TIMEOUT_S = 10.0


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication: int = 1
    retention_ms: int | None = None

    def request(self) -> dict[str, Any]:
        """This spec in kafka-python's ``create_topics`` dict form."""
        configs = {"retention.ms": str(self.retention_ms)} if self.retention_ms else {}
        return {
            "num_partitions": self.partitions,
            "replication_factor": self.replication,
            "configs": configs,
        }


@dataclass(frozen=True)
class TopicResult:
    """What ``ensure_topics`` did for one spec."""

    topic: str
    status: str  # "created" | "exists" | "error"
    partitions: int | None = None
    requested_partitions: int | None = None
    replication: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_specs(
    settings: Settings,
    replication: int = 1,
    *,
    partitions: int | None = None,
    retention_ms: int | None = None,
) -> list[TopicSpec]:
    """Input topics with ``partitions`` (default ``settings.partitions``); their DLQs and the
    alerts topic with one partition each. ``retention_ms`` applies to all of them."""
    count = partitions or settings.partitions
    specs = [TopicSpec(t, count, replication, retention_ms) for t in settings.topics]
    specs += [TopicSpec(dlq_topic(t), 1, replication, retention_ms) for t in settings.topics]
    specs.append(TopicSpec(ALERTS_TOPIC, 1, replication, retention_ms))
    return specs


def admin(settings: Settings, timeout_s: float | None = None) -> KafkaAdminClient:
    timeout_ms = int((timeout_s or _ADMIN_TIMEOUT_S) * 1000)
    try:
        return KafkaAdminClient(
            **client_config(settings, "sentimon-admin"),
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
        )
    except KafkaError as exc:
        raise StackError(
            f"no Kafka broker answers at {settings.kafka_bootstrap} ({type(exc).__name__}): "
            "start one (`sentimon stack up`) or set SENTIMON_KAFKA_BOOTSTRAP"
        ) from exc


def ensure_topics(settings: Settings, specs: list[TopicSpec]) -> list[TopicResult]:
    """Create the topics of ``specs`` that are missing; report each one."""
    if not specs:
        return []
    client = admin(settings)
    try:
        response = client.create_topics(
            {s.name: s.request() for s in specs},
            timeout_ms=_CREATE_TIMEOUT_MS,
            raise_errors=False,
        )
        codes = {t["name"]: t for t in response.get("topics", [])}
        existing = [
            s.name for s in specs if codes.get(s.name, {}).get("error_code") == _ALREADY_EXISTS
        ]
        actual = {row["topic"]: row for row in _describe(client, existing)} if existing else {}
    except KafkaError as exc:
        raise StackError(f"creating topics failed: {exc}") from exc
    finally:
        client.close()
    return [_result(spec, codes.get(spec.name, {}), actual.get(spec.name)) for spec in specs]


def _result(spec: TopicSpec, answer: dict[str, Any], actual: dict[str, Any] | None) -> TopicResult:
    code = int(answer.get("error_code", -1))
    if code == 0:
        log.info("created topic %s (%d partitions)", spec.name, spec.partitions)
        return TopicResult(spec.name, "created", spec.partitions, spec.partitions, spec.replication)
    if code == _ALREADY_EXISTS:
        have = actual["partitions"] if actual else None
        detail = ""
        if have is not None and have < spec.partitions:
            detail = (
                f"has {have} partitions, {spec.partitions} requested: left unchanged "
                "(add partitions with kafka-topics.sh --alter if you mean it)"
            )
            log.warning("topic %s %s", spec.name, detail)
        replication = actual["replication"] if actual else None
        return TopicResult(spec.name, "exists", have, spec.partitions, replication, detail)
    message = answer.get("error_message") or (for_code(code).__name__ if code >= 0 else "no answer")
    return TopicResult(spec.name, "error", None, spec.partitions, spec.replication, str(message))


def create_topics(settings: Settings, specs: list[TopicSpec]) -> list[str]:
    """Create missing topics; returns the names created. Existing topics are left alone.
    Raises ``StackError`` if any topic could be neither created nor found."""
    results = ensure_topics(settings, specs)
    failed = [f"{r.topic}: {r.detail}" for r in results if r.status == "error"]
    if failed:
        raise StackError("creating topics failed: " + "; ".join(failed))
    return [r.topic for r in results if r.status == "created"]


def describe_topics(settings: Settings, names: list[str] | None = None) -> list[dict[str, Any]]:
    """Per topic: partitions, replication, retention_ms (None if unknown) and error (None or
    the Kafka error name). Without ``names``, every non-internal topic."""
    client = admin(settings)
    try:
        names = names or sorted(t for t in client.list_topics() if not t.startswith("__"))
        return _describe(client, names)
    except KafkaError as exc:
        raise StackError(f"describing topics failed: {exc}") from exc
    finally:
        client.close()


def _describe(client: KafkaAdminClient, names: list[str]) -> list[dict[str, Any]]:
    rows = [_topic_row(meta) for meta in client.describe_topics(names)]
    retention = _retention(client, [r["topic"] for r in rows if r["error"] is None])
    for row in rows:
        row["retention_ms"] = retention.get(row["topic"])
    return rows


def _topic_row(meta: dict[str, Any]) -> dict[str, Any]:
    partitions = meta.get("partitions") or []
    code = int(meta.get("error_code") or 0)
    replicas = partitions[0].get("replica_nodes") or [] if partitions else []
    return {
        "topic": meta.get("name") or meta.get("topic"),
        "partitions": len(partitions),
        "replication": len(replicas) if partitions else None,
        "error": None if code == 0 else for_code(code).__name__,
    }


def _retention(client: KafkaAdminClient, names: list[str]) -> dict[str, int | None]:
    """Effective ``retention.ms`` per topic; best effort (some brokers lack DescribeConfigs)."""
    if not names:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
    try:
        answer = client.describe_configs(resources, config_filter="all")
    except (KafkaError, ValueError) as exc:
        log.debug("describe_configs failed: %s", exc)
        return {}
    out: dict[str, int | None] = {}
    for name, configs in answer.get("topic", {}).items():
        value = (configs.get("retention.ms") or {}).get("value")
        out[name] = int(value) if value not in (None, "") else None
    return out
