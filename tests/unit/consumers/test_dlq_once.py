"""Dead letters effectively once: retries, restarts and crashes in doubt (pure logic)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from consumers.dlq import CollectingDeadLetters, DeadLetter
from consumers.dlq_once import PublishOnce
from consumers.records import SourceRecord
from sentimon.errors import SinkError


class MemoryLedger:
    """The ledger's contract over a dict (the Redis one is exercised in integration)."""

    def __init__(self) -> None:
        self.sent: dict[str, int] = {}
        self.pending: dict[str, tuple[int, int]] = {}
        self.down = False
        self.confirm_fails = False

    def marks(self, fields: Sequence[str]) -> dict[str, tuple[int, int, int]]:
        if self.down:
            raise SinkError("redis down")
        return {f: (self.sent.get(f, -1), *self.pending.get(f, (-1, 0))) for f in fields}

    def reserve(self, offsets: dict[str, int], now_ms: int) -> None:
        if self.down:
            raise SinkError("redis down")
        self.pending.update({f: (o, now_ms) for f, o in offsets.items()})

    def confirm(self, offsets: dict[str, int]) -> bool:
        if self.down or self.confirm_fails:
            return False
        self.sent.update(offsets)
        return True

    def clear(self, fields: Sequence[str]) -> None:
        for f in fields:
            self.sent.pop(f, None)
            self.pending.pop(f, None)


def letters(*offsets: int, partition: int = 0) -> list[DeadLetter]:
    return [DeadLetter(SourceRecord("news", partition, o, 0, b"{bad"), "not JSON") for o in offsets]


def published(topic: CollectingDeadLetters) -> list[int]:
    return [d.record.offset for d in topic.letters]


def test_a_retried_batch_publishes_its_dead_letters_once() -> None:
    topic, ledger = CollectingDeadLetters(), MemoryLedger()
    once = PublishOnce(topic, ledger, topic)  # type: ignore[arg-type]
    for _retry in range(5):
        once.publish(letters(3, 7))
    assert published(topic) == [3, 7]


def test_a_retry_while_redis_lost_the_confirmation_still_publishes_once() -> None:
    topic, ledger = CollectingDeadLetters(), MemoryLedger()
    once = PublishOnce(topic, ledger, topic)  # type: ignore[arg-type]
    ledger.confirm_fails = True
    once.publish(letters(3))
    once.publish(letters(3, 9))
    assert published(topic) == [3, 9]


def test_nothing_is_published_while_redis_is_down() -> None:
    topic, ledger = CollectingDeadLetters(), MemoryLedger()
    once = PublishOnce(topic, ledger, topic)  # type: ignore[arg-type]
    ledger.down = True
    with pytest.raises(SinkError):
        once.publish(letters(1))
    assert published(topic) == []
    ledger.down = False
    once.publish(letters(1))
    assert published(topic) == [1]


def test_a_member_taking_over_skips_what_was_confirmed() -> None:
    topic, ledger = CollectingDeadLetters(), MemoryLedger()
    PublishOnce(topic, ledger, topic).publish(letters(1, 2))  # type: ignore[arg-type]
    PublishOnce(topic, ledger, topic).publish(letters(1, 2, 5))  # type: ignore[arg-type]
    assert published(topic) == [1, 2, 5]


def test_offsets_in_doubt_are_read_back_from_the_topic() -> None:
    """A publisher killed between the broker's ack and the confirmation: the next member
    reads the topic back and publishes only what is missing."""
    topic, ledger = CollectingDeadLetters(), MemoryLedger()
    first = PublishOnce(topic, ledger, topic)  # type: ignore[arg-type]
    ledger.confirm_fails = True  # the kill: acknowledged, never confirmed
    first.publish(letters(4, 6))
    ledger.confirm_fails = False
    # A crash after the reservation but before the publish: 8 reserved, never sent.
    ledger.pending["news:0"] = (8, ledger.pending["news:0"][1])
    PublishOnce(topic, ledger, topic).publish(letters(4, 6, 8, 9))  # type: ignore[arg-type]
    assert published(topic) == [4, 6, 8, 9]


def test_without_a_reader_doubtful_letters_are_published_again() -> None:
    """At least once, never lost, when the topic cannot be read back."""
    topic, ledger = CollectingDeadLetters(), MemoryLedger()
    ledger.confirm_fails = True
    PublishOnce(topic, ledger, None).publish(letters(4))  # type: ignore[arg-type]
    ledger.confirm_fails = False
    PublishOnce(topic, ledger, None).publish(letters(4))  # type: ignore[arg-type]
    assert published(topic) == [4, 4]


def test_partitions_are_independent_and_a_reset_forgets_marks() -> None:
    topic, ledger = CollectingDeadLetters(), MemoryLedger()
    once = PublishOnce(topic, ledger, topic)  # type: ignore[arg-type]
    once.publish(letters(10, partition=0) + letters(2, partition=1))
    once.publish(letters(3, partition=1))
    assert published(topic) == [10, 2, 3]
    once.reset(["news:0"])  # the broker lost partition 0: offsets start again
    once.publish(letters(0, partition=0))
    assert published(topic) == [10, 2, 3, 0]
