"""KafkaSource.commit: a commit refused because the group is rebalancing is logged, not
fatal (the batches are in Redis; the next reader skips them at the fences)."""

from __future__ import annotations

import logging

import pytest
from kafka.errors import CommitFailedError, KafkaConnectionError, RebalanceInProgressError

from consumers.source import KafkaSource


class RefusingConsumer:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.calls: list[dict] = []

    def commit(self, offsets: dict, timeout_ms: int | None = None) -> None:
        self.calls.append(offsets)
        self.timeout_ms = timeout_ms
        raise self.exc

    def commit_async(self, offsets: dict, callback) -> None:
        """Like kafka-python's: never raises, hands the failure to ``callback``."""
        self.calls.append(offsets)
        callback(offsets, self.exc)


def source_with(consumer: RefusingConsumer) -> KafkaSource:
    source = KafkaSource.__new__(KafkaSource)
    source.consumer = consumer  # type: ignore[assignment]
    return source


@pytest.mark.parametrize("exc", [CommitFailedError(), RebalanceInProgressError()])
def test_a_commit_refused_in_a_rebalance_is_logged_and_survived(exc, caplog):
    consumer = RefusingConsumer(exc)
    with caplog.at_level(logging.WARNING, logger="consumers.source"):
        source_with(consumer).commit({("news", 0): 10, ("news", 1): 4})
    assert len(consumer.calls) == 1
    assert "commit of 2 partitions failed during a rebalance" in caplog.text


def test_other_commit_errors_still_raise():
    with pytest.raises(KafkaConnectionError):
        source_with(RefusingConsumer(KafkaConnectionError())).commit({("news", 0): 1})


def test_nothing_to_commit_sends_nothing():
    consumer = RefusingConsumer(CommitFailedError())
    source_with(consumer).commit({})
    assert consumer.calls == []


def test_a_non_blocking_commit_is_sent_async_and_a_failure_logged(caplog):
    consumer = RefusingConsumer(CommitFailedError())
    with caplog.at_level(logging.WARNING, logger="consumers.source"):
        source_with(consumer).commit({("news", 0): 10}, blocking=False)
    assert len(consumer.calls) == 1
    assert "commit of 1 partitions failed during a rebalance" in caplog.text


def test_a_commit_not_confirmed_in_time_is_logged_and_survived(caplog):
    from kafka.errors import KafkaTimeoutError

    consumer = RefusingConsumer(KafkaTimeoutError())
    with caplog.at_level(logging.WARNING, logger="consumers.source"):
        source_with(consumer).commit({("news", 0): 10}, timeout_s=1.5)
    assert consumer.timeout_ms == 1500
    assert "not confirmed within 1.5s" in caplog.text


class PositionedConsumer:
    """Assignment, high-water marks (None: never fetched) and positions."""

    def __init__(self, highs: dict, positions: dict) -> None:
        self.highs, self.positions = highs, positions

    def assignment(self) -> set:
        return set(self.highs)

    def highwater(self, tp) -> int | None:
        return self.highs[tp]

    def position(self, tp, timeout_ms: int | None = None) -> int:
        return self.positions[tp]


def test_caught_up_needs_an_assignment_and_every_high_water_mark_reached():
    from kafka import TopicPartition

    a, b = TopicPartition("news", 0), TopicPartition("news", 1)
    caught = lambda highs, positions: source_with(PositionedConsumer(highs, positions)).caught_up()  # noqa: E731
    assert not caught({}, {})  # nothing assigned
    assert not caught({a: 10, b: None}, {a: 10, b: 0})  # b never fetched: unknown
    assert not caught({a: 10, b: 5}, {a: 10, b: 4})
    assert caught({a: 10, b: 5}, {a: 10, b: 5})
    assert caught({a: 0}, {a: 0})  # an empty partition, fetched
