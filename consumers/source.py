"""The Kafka edge: a consumer-group source with manual commits and rebalance callbacks.

Offsets are never auto-committed; the run loop commits what the pipeline returned after
the Redis write succeeded. Lag uses ``highwater`` (from fetch responses), which is right on
Apache Kafka and on the embedded broker, whose ``end_offsets`` is not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import CommitFailedError, KafkaTimeoutError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata

from consumers.records import SourceRecord
from sentimon.kafka_config import client_config, group_timeouts
from sentimon.settings import Settings

log = logging.getLogger(__name__)

PartitionCallback = Callable[[list[tuple[str, int]]], None]


class _Listener(ConsumerRebalanceListener):
    def __init__(self, on_assigned: PartitionCallback, on_revoked: PartitionCallback) -> None:
        self._assigned = on_assigned
        self._revoked = on_revoked

    def on_partitions_revoked(self, revoked: Any) -> None:
        self._revoked(sorted((tp.topic, tp.partition) for tp in revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self._assigned(sorted((tp.topic, tp.partition) for tp in assigned))


def _log_refused(partitions: int, exc: BaseException) -> None:
    log.warning(
        "offset commit of %d partitions failed during a rebalance (%s); the records are "
        "applied, so a re-read skips them at the fences",
        partitions,
        exc,
    )


def _log_timed_out(partitions: int, timeout_s: float | None) -> None:
    log.warning(
        "offset commit of %d partitions not confirmed within %s; the records are applied, "
        "so a re-read skips them at the fences",
        partitions,
        "the request timeout" if timeout_s is None else f"{timeout_s:.1f}s",
    )


def _log_async_commit(offsets: dict[Any, Any], response: Any) -> None:
    if isinstance(response, BaseException):
        _log_refused(len(offsets), response)


def to_record(message: Any, log_end: int | None = None) -> SourceRecord:
    headers = tuple((k, v) for k, v in (message.headers or []))
    return SourceRecord(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=message.timestamp if message.timestamp and message.timestamp > 0 else 0,
        value=message.value,
        key=message.key,
        headers=headers,
        log_end=log_end,
    )


class KafkaSource:
    """A group member over the configured topics."""

    def __init__(
        self,
        settings: Settings,
        *,
        group: str,
        on_assigned: PartitionCallback,
        on_revoked: PartitionCallback,
        client_id: str = "sentimon-consumer",
    ) -> None:
        self.consumer = KafkaConsumer(
            **client_config(settings, client_id),
            **group_timeouts(settings),
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max(settings.max_batch * 4, 256),
            max_poll_interval_ms=300_000,
            fetch_max_wait_ms=max(settings.max_wait_ms, 10),
            fetch_max_bytes=16 * 1024 * 1024,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self.consumer.subscribe(settings.topics, listener=_Listener(on_assigned, on_revoked))

    def poll(self, timeout_s: float) -> list[SourceRecord]:
        batches = self.consumer.poll(timeout_ms=int(timeout_s * 1000))
        return [
            to_record(m, self.consumer.highwater(tp))
            for tp, messages in batches.items()
            for m in messages
        ]

    def commit(
        self,
        offsets: dict[tuple[str, int], int],
        *,
        blocking: bool = True,
        timeout_s: float | None = None,
    ) -> None:
        """Commit; if the group is rebalancing (or already moved on without this member),
        or the commit is not confirmed within ``timeout_s`` (default: the request
        timeout), log and go on: the batches are in Redis, and whoever reads those
        partitions next starts from the last commit and skips them at the fences.

        ``blocking=False`` sends the commit without waiting for it: the only way to commit
        from a rebalance callback, which kafka-python runs on its I/O thread, where a
        blocking call raises. A failure is logged the same way."""
        if not offsets:
            return
        commit = {
            TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in offsets.items()
        }
        if not blocking:
            self.consumer.commit_async(commit, callback=_log_async_commit)
            return
        timeout_ms = None if timeout_s is None else max(1, int(timeout_s * 1000))
        try:
            self.consumer.commit(commit, timeout_ms=timeout_ms)
        except (CommitFailedError, RebalanceInProgressError) as exc:
            _log_refused(len(offsets), exc)
        except KafkaTimeoutError:
            _log_timed_out(len(offsets), timeout_s)

    def rewind(self, offsets: dict[tuple[str, int], int]) -> None:
        """Fetch these partitions again from these offsets (local state only: safe in a
        rebalance callback)."""
        owned = self.consumer.assignment()
        for (t, p), offset in offsets.items():
            if TopicPartition(t, p) in owned:
                self.consumer.seek(TopicPartition(t, p), offset)

    def assignment(self) -> list[tuple[str, int]]:
        return sorted((tp.topic, tp.partition) for tp in self.consumer.assignment())

    def pause_all(self) -> None:
        parts = self.consumer.assignment()
        if parts:
            self.consumer.pause(*parts)

    def resume_all(self) -> None:
        paused = self.consumer.paused()
        if paused:
            self.consumer.resume(*paused)

    def lag(self) -> dict[tuple[str, int], int]:
        """Records behind the high-water mark, per assigned partition (known ones only)."""
        out: dict[tuple[str, int], int] = {}
        for tp in self.consumer.assignment():
            high = self.consumer.highwater(tp)
            if high is None:
                continue
            try:
                position = self.consumer.position(tp, timeout_ms=100)
            except Exception:  # position unknown while (re)joining
                continue
            out[(tp.topic, tp.partition)] = max(0, high - position)
        return out

    def caught_up(self) -> bool:
        """Every assigned partition fetched up to the high-water mark this member has
        seen (from fetch responses: a partition never fetched is not caught up). False
        without an assignment."""
        assigned = self.consumer.assignment()
        if not assigned:
            return False
        for tp in assigned:
            high = self.consumer.highwater(tp)
            if high is None:
                return False
            try:
                position = self.consumer.position(tp, timeout_ms=100)
            except Exception:  # position unknown while (re)joining
                return False
            if position is None or position < high:
                return False
        return True

    def close(self, timeout_s: float = 5.0) -> None:
        started = time.monotonic()
        self.consumer.close(autocommit=False, timeout_ms=int(timeout_s * 1000))
        log.info("left the group in %.2fs", time.monotonic() - started)
