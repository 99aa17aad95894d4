"""KafkaReplay's offset planning and stopping rules against a fake broker that behaves like
Tansu (time lookups by receive time, ``(0, -1)`` past the end, high-water marks only after
a fetch) or like Apache Kafka."""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.structs import OffsetAndTimestamp

from sentimon.errors import ConfigError
from sentimon.replay.kafka_source import KafkaReplay, ReplayError, choose_start
from sentimon.replay.merge import TimeRange
from sentimon.settings import load_settings

H = 3_600_000
T0 = 1_793_000_000_000


@dataclass
class Msg:
    topic: str
    partition: int
    offset: int
    timestamp: int
    value: bytes
    key: bytes | None = None
    headers: Any = None


class FakeConsumer:
    """One broker: ``logs[(topic, p)]`` are (broker timestamp, event ts) pairs."""

    def __init__(self, logs: dict[tuple[str, int], list[tuple[int, int]]], *, tansu: bool) -> None:
        self.tansu = tansu
        self.logs = {
            TopicPartition(t, p): [
                Msg(t, p, i, b, json.dumps({"id": f"{t}{p}-{i}", "text": "x", "ts": e}).encode())
                for i, (b, e) in enumerate(rows)
            ]
            for (t, p), rows in logs.items()
        }
        self.positions: dict[TopicPartition, int] = {}
        self.fetched: set[TopicPartition] = set()
        self._paused: set[TopicPartition] = set()
        self.appended_after_start: dict[TopicPartition, list[Msg]] = {}
        self.polls = 0
        self.committed = False

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {tp.partition for tp in self.logs if tp.topic == topic}

    def assign(self, tps: list[TopicPartition]) -> None:
        self.positions = dict.fromkeys(tps, 0)

    def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, 0)

    def offsets_for_times(self, query: dict[TopicPartition, int]) -> dict[TopicPartition, Any]:
        out: dict[TopicPartition, Any] = {}
        for tp, target in query.items():
            hit = next((m for m in self.logs[tp] if m.timestamp >= target), None)
            if hit is not None:
                out[tp] = OffsetAndTimestamp(hit.offset, hit.timestamp, 0)
            elif self.tansu:
                out[tp] = OffsetAndTimestamp(0, -1, 0)
            else:
                out[tp] = None
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def pause(self, *tps: TopicPartition) -> None:
        self._paused.update(tps)

    def resume(self, *tps: TopicPartition) -> None:
        self._paused.difference_update(tps)

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    def highwater(self, tp: TopicPartition) -> int | None:
        return len(self.logs[tp]) if tp in self.fetched else None

    def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def poll(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Msg]]:
        self.polls += 1
        out = {}
        for tp in sorted(self.positions):
            if tp in self._paused:
                continue
            if tp in self.fetched and tp in self.appended_after_start:  # live traffic arrives
                self.logs[tp].extend(self.appended_after_start.pop(tp))
            self.fetched.add(tp)
            start = self.positions[tp]
            chunk = self.logs[tp][start : start + 3]
            if chunk:
                out[tp] = chunk
                self.positions[tp] = chunk[-1].offset + 1
        return out

    def commit(self, *args: Any, **kwargs: Any) -> None:
        self.committed = True
        raise AssertionError("a replay must never commit")

    def close(self, autocommit: bool = True) -> None:
        assert autocommit is False


def replay(consumer: FakeConsumer, span: TimeRange, **kw: Any) -> tuple[KafkaReplay, list[int]]:
    source = KafkaReplay(load_settings(), ["news"], span, consumer=consumer, stall_s=2, **kw)
    source.plan()
    events = [t.event_ms for t in source.records()]
    source.close()
    return source, events


def test_choose_start():
    assert choose_start(None, 0) == (None, "nothing at or after the start")
    start, how = choose_start(OffsetAndTimestamp(0, -1, 0), 0)
    assert start is None and "-1" in how
    assert choose_start(OffsetAndTimestamp(7, T0, 0), 0) == (7, "by time")
    assert choose_start(OffsetAndTimestamp(2, T0, 0), 5) == (
        5,
        "by time",
    )  # never below the log start
    assert choose_start(SimpleNamespace(offset=3, timestamp=None), 0)[0] is None


@pytest.mark.parametrize("tansu", [True, False])
def test_keeps_exactly_the_event_time_range(tansu):
    # broker time == event time except record 4: stamped inside, event time outside (and
    # record 5: stamped outside within the slack, event time inside)
    rows = [(T0 + i * 60_000, T0 + i * 60_000) for i in range(10)]
    rows[4] = (T0 + 4 * 60_000, T0 + 100 * H)
    rows[5] = (T0 + 11 * 60_000, T0 + 5 * 60_000)
    consumer = FakeConsumer(
        {("news", 0): rows, ("news", 1): [(T0 + 30_000, T0 + 30_000)]}, tansu=tansu
    )
    span = TimeRange(T0 + 2 * 60_000, T0 + 8 * 60_000)
    source, events = replay(consumer, span, slack_ms=H)
    expected = sorted(e for _, e in rows if span.position(e) == 0)
    assert events == expected
    assert source.counters.after >= 1 and source.counters.before >= 2
    assert not consumer.committed


def test_past_the_end_answers_skip_the_partition_on_both_brokers():
    for tansu in (True, False):
        consumer = FakeConsumer(
            {("news", 0): [(T0, T0)], ("news", 1): [(T0 + 5 * H, T0 + 5 * H)]}, tansu=tansu
        )
        source, events = replay(consumer, TimeRange(T0 + 4 * H, T0 + 6 * H), slack_ms=60_000)
        assert events == [T0 + 5 * H]
        lanes = {d["partition"]: d for d in source.describe()}
        assert lanes["news:0"]["start"] is None
        assert lanes["news:1"]["start"] == 0


def test_stops_at_the_high_water_mark_seen_at_start():
    rows = [(T0 + i, T0 + i) for i in range(6)]
    consumer = FakeConsumer({("news", 0): rows}, tansu=True)
    late = [
        Msg(
            "news",
            0,
            6 + i,
            T0 + 6 + i,
            json.dumps({"id": f"late{i}", "text": "x", "ts": T0 + 6 + i}).encode(),
        )
        for i in range(4)
    ]
    consumer.appended_after_start[TopicPartition("news", 0)] = late
    source, events = replay(consumer, TimeRange())
    assert events == [T0 + i for i in range(6)]  # live traffic after the start is not replayed
    assert source.describe()[0]["stop"] == 6


def test_stops_a_partition_at_the_first_record_stamped_past_the_end_plus_slack():
    rows = [(T0 + i * H, T0 + i * H) for i in range(10)]
    consumer = FakeConsumer({("news", 0): rows}, tansu=False)
    source, events = replay(consumer, TimeRange(T0, T0 + 2 * H), slack_ms=H)
    assert events == [T0, T0 + H]
    lane = source.describe()[0]
    assert lane["stopped_early"] and lane["read"] < 10


def test_scan_all_reads_whole_partitions_for_untrustworthy_broker_times():
    # broker times are "now", event times historical: seeking and early stops would be wrong
    rows = [(T0 + 900 * H, T0 + i * 60_000) for i in range(8)]
    consumer = FakeConsumer({("news", 0): rows}, tansu=True)
    _, events = replay(consumer, TimeRange(T0 + 2 * 60_000, T0 + 5 * 60_000), scan_all=True)
    assert events == [T0 + i * 60_000 for i in (2, 3, 4)]


def test_missing_topic_is_a_config_error():
    consumer = FakeConsumer({("news", 0): []}, tansu=True)
    source = KafkaReplay(load_settings(), ["nope"], TimeRange(), consumer=consumer)
    with pytest.raises(ConfigError, match="does not exist"):
        source.plan()


def test_a_partition_that_never_answers_is_reported():
    consumer = FakeConsumer({("news", 0): [(T0, T0)]}, tansu=True)
    consumer.highwater = lambda tp: None  # type: ignore[method-assign]
    source = KafkaReplay(load_settings(), ["news"], TimeRange(), consumer=consumer, stall_s=0.3)
    with pytest.raises(ReplayError, match="news:0"):
        source.plan()


@pytest.mark.parametrize("tansu", [True, False])
def test_a_backfilled_topic_is_reported_with_what_to_do(tansu: bool) -> None:
    """History published long after its event times (record timestamps are produce
    times): the replay finds nothing by broker time and says to use --scan-all."""
    produced = T0 + 400 * 24 * H
    rows = [(produced + i, T0 + i * 60_000) for i in range(10)]
    consumer = FakeConsumer({("news", 0): rows}, tansu=tansu)
    source, events = replay(consumer, TimeRange(T0, T0 + H))
    assert events == []
    assert source.counters.skewed >= 1
    (warning,) = source.warnings()
    assert "--scan-all" in warning and "found no record in the range" in warning
    full, kept = replay(
        FakeConsumer({("news", 0): rows}, tansu=tansu), TimeRange(T0, T0 + H), scan_all=True
    )
    assert len(kept) == 10 and full.warnings() == []


def test_event_times_matching_record_times_give_no_warning() -> None:
    rows = [(T0 + i * 60_000, T0 + i * 60_000) for i in range(10)]
    source, events = replay(FakeConsumer({("news", 0): rows}, tansu=False), TimeRange(T0, T0 + H))
    assert len(events) == 10 and source.warnings() == []
    assert source.counters.as_dict()["skewed_timestamps"] == 0
