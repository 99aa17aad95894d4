"""Dead letters: invalid records go to ``<topic>.dlq`` with the reason in headers.

The original bytes are kept unchanged as the value (and the original key as the key), so
nothing is lost; headers say where the record came from and why it was rejected. A record
too big for any producer or broker limit (over ``max_record_bytes``, key and value) is cut
to fit, with its original sizes and the SHA-256 of its value in headers: refusing it would
stall the consumer on it forever, and its source offset is in the headers.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from consumers.records import SourceRecord
from sentimon.errors import SinkError
from sentimon.topics import dlq_topic

log = logging.getLogger(__name__)

REASON_HEADER = "sentimon-dlq-reason"
TRUNCATED_HEADER = "sentimon-dlq-truncated"
SHA256_HEADER = "sentimon-dlq-sha256"
#: Under the producer's max_request_size (1 MiB or more) and Kafka's default 1 MiB
#: max.message.bytes, with room for headers and batch overhead.
MAX_RECORD_BYTES = 1_000_000


#: A dead letter's source record: (topic, partition, offset).
SourceId = tuple[str, int, int]


@dataclass(frozen=True)
class DeadLetter:
    record: SourceRecord
    reason: str

    @property
    def source(self) -> SourceId:
        """Where the record came from: (topic, partition, offset)."""
        return (self.record.topic, self.record.partition, self.record.offset)

    def headers(self) -> list[tuple[str, bytes]]:
        rec = self.record
        return [
            (REASON_HEADER, self.reason.encode("utf-8")),
            ("sentimon-source-topic", rec.topic.encode()),
            ("sentimon-source-partition", str(rec.partition).encode()),
            ("sentimon-source-offset", str(rec.offset).encode()),
            ("sentimon-source-timestamp", str(rec.timestamp_ms).encode()),
        ]


class DeadLetterSink(Protocol):
    def publish(self, letters: Sequence[DeadLetter]) -> None: ...


class KafkaDeadLetters:
    """Publishes to the dead-letter topics and waits until the broker acknowledged them."""

    def __init__(
        self,
        producer_factory: Callable[[], Any],
        timeout_s: float = 30.0,
        max_record_bytes: int = MAX_RECORD_BYTES,
        consumer_factory: Callable[[], Any] | None = None,
    ) -> None:
        self._factory = producer_factory
        self._consumer_factory = consumer_factory
        self._producer: Any = None
        self.timeout_s = timeout_s
        self.max_record_bytes = max_record_bytes

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        if not letters:
            return
        try:
            producer = self._producer or self._factory()
            self._producer = producer
            futures = [
                producer.send(dlq_topic(letter.record.topic), **self._fit(letter))
                for letter in letters
            ]
            producer.flush(timeout=self.timeout_s)
            for future in futures:
                future.get(timeout=self.timeout_s)
        except Exception as exc:
            # A fatal producer error (e.g. after a broker restart) poisons the producer:
            # drop it and build a fresh one on the next try.
            self.close()
            raise SinkError(f"publishing {len(letters)} dead letters failed: {exc}") from exc
        log.info("sent %d invalid records to dead-letter topics", len(letters))

    def published(self, letters: Sequence[DeadLetter], since_ms: int) -> set[SourceId]:
        """Which of ``letters`` are already in their dead-letter topics, reading each topic
        from ``since_ms`` (broker time) to its high-water mark. Used only after a publisher
        stopped between publishing and recording it (``consumers.dlq_once``)."""
        if self._consumer_factory is None:
            raise SinkError("no consumer to read the dead-letter topics back with")
        wanted = {d.source for d in letters}
        found: set[SourceId] = set()
        try:
            consumer = self._consumer_factory()
        except Exception as exc:
            raise SinkError(f"reading the dead-letter topics back failed: {exc}") from exc
        try:
            for topic in sorted({d.record.topic for d in letters}):
                found |= _read_back(consumer, dlq_topic(topic), since_ms, self.timeout_s)
        except Exception as exc:
            raise SinkError(f"reading the dead-letter topics back failed: {exc}") from exc
        finally:
            consumer.close()
        return found & wanted

    def _fit(self, letter: DeadLetter) -> dict[str, Any]:
        """The letter's key, value and headers, cut to ``max_record_bytes`` if bigger."""
        key, value = letter.record.key, letter.record.value or b""
        headers = letter.headers()
        if len(key or b"") + len(value) <= self.max_record_bytes:
            return {"key": key, "value": value, "headers": headers}
        sizes = f"key {len(key or b'')} bytes, value {len(value)} bytes"
        headers += [
            (TRUNCATED_HEADER, sizes.encode()),
            (SHA256_HEADER, hashlib.sha256(value).hexdigest().encode()),
        ]
        cut_key = key[: self.max_record_bytes // 2] if key else key
        cut_value = value[: self.max_record_bytes - len(cut_key or b"")]
        log.warning("dead letter from %s cut to fit (%s)", letter.record.fence_field, sizes)
        return {"key": cut_key, "value": cut_value, "headers": headers}

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=2)
            except Exception:  # closing a broken producer must not mask the real error
                log.debug("closing dead-letter producer failed", exc_info=True)
            self._producer = None


def _read_back(consumer: Any, topic: str, since_ms: int, timeout_s: float) -> set[SourceId]:
    """Source ids (topic, partition, offset) in the headers of ``topic``'s records from
    ``since_ms`` to the high-water mark seen at the first fetch. A broker that answers a
    time look-up with ``timestamp -1`` (the embedded one, past the end) has nothing there."""
    from kafka import TopicPartition  # noqa: PLC0415 (heavy: loaded only when used)

    parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
    if not parts:
        return set()
    consumer.assign(parts)
    answers = consumer.offsets_for_times({tp: max(since_ms, 0) for tp in parts})
    todo: dict[Any, None] = {}  # partitions still to read, in order
    for tp in parts:
        answer = answers.get(tp)
        if answer is not None and answer.timestamp is not None and answer.timestamp >= 0:
            consumer.seek(tp, answer.offset)
            todo[tp] = None
    found: set[SourceId] = set()
    deadline = time.monotonic() + timeout_s
    while todo and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                found.add(_source_of(record.headers or []))
        for tp in list(todo):
            high = consumer.highwater(tp)
            if high is not None and consumer.position(tp) >= high:
                todo.pop(tp)
    if todo:
        raise SinkError(f"reading {topic} back did not reach its end within {timeout_s:.0f}s")
    return found


def _source_of(headers: Sequence[tuple[str, bytes]]) -> SourceId:
    h = {k: v.decode("utf-8", "replace") for k, v in headers}
    try:
        return (
            h["sentimon-source-topic"],
            int(h["sentimon-source-partition"]),
            int(h["sentimon-source-offset"]),
        )
    except (KeyError, ValueError):
        return ("", -1, -1)


class CollectingDeadLetters:
    """Keeps dead letters in memory (backtests from files, tests)."""

    def __init__(self) -> None:
        self.letters: list[DeadLetter] = []

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        self.letters.extend(letters)

    def published(self, letters: Sequence[DeadLetter], since_ms: int) -> set[SourceId]:
        have = {d.source for d in self.letters}
        return {d.source for d in letters} & have
