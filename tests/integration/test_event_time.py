"""Event-time bounds in the live path (real Redis, real broker): posts stamped decades
away are dead-lettered once with the reason, the watermark stays within the skew, and a
watermark written before the bounds existed is repaired by the next batch."""

from __future__ import annotations

import json
import time
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from consumers.dlq import CollectingDeadLetters, DeadLetter, KafkaDeadLetters
from consumers.dlq_once import PublishOnce
from consumers.records import SourceRecord
from consumers.wiring import build_processor, make_consumer, make_producer
from sentimon.keys import Keys
from sentimon.store.client import connect
from sentimon.store.dlq_marks import DeadLetterLedger
from sentimon.store.query import Query
from sentimon.testing import HashScorer
from sentimon.topics import dlq_topic
from tests.integration.faults.checks import read_topic

pytestmark = pytest.mark.integration

FAR_FUTURE = "2099-12-31T23:59:59Z"
FAR_PAST = "2000-01-01T00:00:00Z"
WEEK_S = 7 * 86_400


def _record(offset: int, body: dict[str, Any], now_ms: int) -> SourceRecord:
    return SourceRecord("news-et", 0, offset, now_ms, json.dumps(body).encode())


def _settings(stack: Any, **extra: Any) -> Any:
    return stack.settings(
        namespace=f"t-{uuid.uuid4().hex[:8]}",
        topics=["news-et"],
        event_time_max_behind_s=WEEK_S,
        event_time_max_ahead_s=300,
        **extra,
    )


def test_posts_far_from_processing_time_are_dead_lettered_and_cannot_move_the_watermark(
    stack: Any,
) -> None:
    settings = _settings(stack)
    collected = CollectingDeadLetters()
    proc = build_processor(settings, HashScorer(), dead_letters=collected, hooks=[])
    now = int(time.time() * 1000)
    bodies = [
        {"id": "now-1", "text": "$ACME beats estimates", "ts": now - 1_000},
        {"id": "future", "text": "$ACME wrong year", "ts": FAR_FUTURE},
        {"id": "past", "text": "$ACME wrong year", "ts": FAR_PAST},
        {"id": "seconds", "text": "$ACME seconds, not ms", "ts": now // 1000},
        {"id": "ahead-10m", "text": "$ACME clock ahead", "ts": now + 600_000},
        {"id": "now-2", "text": "$ACME guidance cut", "ts": now - 3 * 86_400_000},
    ]
    result = proc.process([_record(i, b, now) for i, b in enumerate(bodies)])
    assert result.scored == 2 and result.invalid == 4
    reasons = {json.loads(d.record.value or b"{}")["id"]: d.reason for d in collected.letters}
    assert set(reasons) == {"future", "past", "seconds", "ahead-10m"}
    assert FAR_FUTURE in reasons["future"] and "ahead of processing time" in reasons["future"]
    assert "behind processing time" in reasons["past"]
    query = Query(connect(settings), settings.namespace)
    assert query.counters()["dlq"] == 4
    watermark = query.watermark_ms()
    assert watermark is not None and watermark == now - 1_000
    assert query.ticker("ACME", 3600).count == 1  # the default window shows current data


def test_a_hijacked_watermark_is_repaired_by_the_next_batch(stack: Any) -> None:
    settings = _settings(stack)
    client = connect(settings)
    keys = Keys(settings.namespace)
    client.hset(keys.meta, "watermark_ms", 4_102_444_799_000)  # 2099, from an old version
    now = int(time.time() * 1000)
    query = Query(client, settings.namespace)
    read = query.watermark_ms()
    assert read is not None and read <= int(time.time() * 1000) + 300_000  # read side
    proc = build_processor(settings, HashScorer(), hooks=[])
    proc.process([_record(0, {"id": "a", "text": "$ACME up", "ts": now}, now)])
    assert int(client.hget(keys.meta, "watermark_ms")) == now  # type: ignore[arg-type]


def test_dead_letters_in_doubt_after_a_crash_are_read_back_not_sent_twice(stack: Any) -> None:
    """A publisher killed between the broker's acknowledgement and its Redis mark: the
    next one reads the dead-letter topic back and publishes only what is missing."""
    settings = _settings(stack)
    topic = f"news-{uuid.uuid4().hex[:8]}"
    client = connect(settings)
    ledger = DeadLetterLedger(client, Keys(settings.namespace))

    def sink() -> KafkaDeadLetters:
        return KafkaDeadLetters(
            lambda: make_producer(settings, "t-dlq"),
            consumer_factory=lambda: make_consumer(settings, "t-dlq-read"),
        )

    def letter(offset: int) -> DeadLetter:
        return DeadLetter(SourceRecord(topic, 0, offset, 0, f"bad-{offset}".encode()), "why")

    crashed = PublishOnce(sink(), ledger, None)
    crashed.ledger = _NoConfirm(ledger)  # type: ignore[assignment]
    crashed.publish([letter(1), letter(2)])
    inner = sink()
    PublishOnce(inner, ledger, inner).publish([letter(1), letter(2), letter(3)])
    inner = sink()
    PublishOnce(inner, ledger, inner).publish([letter(2), letter(3), letter(4)])
    values = [r.value for r in read_topic(SimpleNamespace(stack=stack), dlq_topic(topic), 4)]  # type: ignore[arg-type]
    assert sorted(values) == [b"bad-1", b"bad-2", b"bad-3", b"bad-4"]


class _NoConfirm:
    """The ledger of a process killed right after the broker acknowledged its publish."""

    def __init__(self, ledger: DeadLetterLedger) -> None:
        self._ledger = ledger

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ledger, name)

    def confirm(self, offsets: dict[str, int]) -> bool:
        return False
