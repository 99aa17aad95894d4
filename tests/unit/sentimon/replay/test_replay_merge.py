"""Event-time merge, batching and pacing of replays (pure)."""

from __future__ import annotations

import json
import random

import pytest

from consumers.records import SourceRecord
from sentimon.replay.merge import (
    Counters,
    EventBatcher,
    EventMerge,
    EventPacer,
    Timed,
    TimeRange,
    event_time,
)
from sentimon.testing import ManualClock


def rec(
    topic: str, partition: int, offset: int, ts: int | str | None, broker_ms: int = 5
) -> SourceRecord:
    body = {"id": f"{topic}-{partition}-{offset}", "text": "x"}
    if ts is not None:
        body["ts"] = ts
    return SourceRecord(topic, partition, offset, broker_ms, json.dumps(body).encode())


def timed(topic: str, partition: int, offset: int, ms: int) -> Timed:
    return Timed(ms, rec(topic, partition, offset, ms))


def test_event_time_prefers_the_ts_field_and_falls_back_to_the_broker_time():
    assert event_time(rec("n", 0, 0, 1_793_000_000_000, broker_ms=42)) == 1_793_000_000_000
    assert event_time(rec("n", 0, 0, "2026-10-26T07:33:20Z", broker_ms=42)) == 1_793_000_000_000
    assert event_time(rec("n", 0, 0, None, broker_ms=42)) == 42
    assert event_time(rec("n", 0, 0, "not-a-time", broker_ms=42)) == 42
    assert event_time(SourceRecord("n", 0, 0, 7, b"\xff\xfe garbage")) == 7
    assert event_time(SourceRecord("n", 0, 0, 7, None)) == 7
    assert event_time(SourceRecord("n", 0, 0, 7, b"[1, 2]")) == 7


def test_time_range_is_half_open():
    span = TimeRange(100, 200)
    assert [span.position(t) for t in (99, 100, 199, 200)] == [-1, 0, 0, 1]
    assert TimeRange().position(-5) == 0
    with pytest.raises(ValueError, match="before --to"):
        TimeRange(200, 200)


def test_counters_keep_only_the_range():
    counters = Counters()
    items = [timed("n", 0, i, ms) for i, ms in enumerate([50, 100, 150, 250])]
    kept = counters.keep(TimeRange(100, 200), items)
    assert [t.event_ms for t in kept] == [100, 150]
    assert (counters.before, counters.in_range, counters.after) == (1, 2, 1)


def lanes_fixture(seed: int = 3) -> dict[tuple[str, int], list[Timed]]:
    rng = random.Random(seed)
    lanes = {}
    for topic in ("news", "social"):
        for p in range(3):
            times = [1000 + rng.randrange(10_000) for _ in range(rng.randrange(0, 40))]
            lanes[(topic, p)] = [timed(topic, p, i, t) for i, t in enumerate(times)]
    return lanes


def drain(lanes: dict[tuple[str, int], list[Timed]], rng: random.Random) -> list[Timed]:
    """Feed the lanes in random chunks and random lane order, as fetches would."""
    merge = EventMerge(sorted(lanes))
    cursors = dict.fromkeys(lanes, 0)
    out: list[Timed] = []
    while not merge.done:
        lane = rng.choice(sorted(lanes))
        start = cursors[lane]
        end = min(len(lanes[lane]), start + rng.randrange(1, 6))
        merge.push(lane, lanes[lane][start:end])
        cursors[lane] = end
        if end == len(lanes[lane]):
            merge.finish(lane)
        out.extend(merge.pop_ready())
    return out


def test_merge_output_does_not_depend_on_fetch_order_or_chunking():
    lanes = lanes_fixture()
    first = drain(lanes, random.Random(1))
    for seed in range(2, 8):
        assert [t.key for t in drain(lanes, random.Random(seed))] == [t.key for t in first]
    assert len(first) == sum(len(v) for v in lanes.values())


def test_merge_keeps_each_lanes_offset_order_even_when_event_time_goes_back():
    lanes = {
        ("n", 0): [timed("n", 0, 0, 500), timed("n", 0, 1, 100)],
        ("n", 1): [timed("n", 1, 0, 300)],
    }
    out = drain(lanes, random.Random(0))
    assert [(t.record.partition, t.record.offset) for t in out] == [(1, 0), (0, 0), (0, 1)]


def test_merge_waits_for_every_unfinished_lane():
    merge = EventMerge(["a", "b"])
    merge.push("a", [timed("a", 0, 0, 10), timed("a", 0, 1, 20)])
    assert merge.pop_ready() == []  # "b" might still deliver something earlier
    assert merge.starving() == {"b"}
    merge.push("b", [timed("b", 0, 0, 15)])
    assert [t.event_ms for t in merge.pop_ready()] == [10, 15]  # then waits for b again
    merge.finish("b")
    assert [t.event_ms for t in merge.pop_ready()] == [20]
    assert not merge.done
    merge.finish("a")
    assert merge.done


def cut(times: list[int], max_batch: int, span_ms: int) -> list[tuple[list[int], int, int]]:
    batcher = EventBatcher(max_batch=max_batch, span_ms=span_ms)
    closed = [batcher.add(timed("n", 0, i, ms)) for i, ms in enumerate(times)]
    batches = [b for b in [*closed, batcher.flush()] if b is not None]
    return [([t.event_ms for t in b.items], b.start_ms, b.end_ms) for b in batches]


def test_batcher_cuts_by_size_and_watermark_span():
    assert cut([0, 10, 20, 30, 500, 1100, 1200], max_batch=3, span_ms=1000) == [
        ([0, 10, 20], 0, 20),
        ([30, 500], 30, 500),
        ([1100, 1200], 1100, 1200),
    ]


def test_late_records_do_not_split_batches():
    # the watermark only moves forward: a shuffled stream still fills batches by size
    assert cut([5000, 3000, 100, 4000, 6500, 200], max_batch=10, span_ms=1000) == [
        ([5000, 3000, 100, 4000], 5000, 5000),
        ([6500, 200], 6500, 6500),
    ]
    assert EventBatcher(2).flush() is None


def test_pacer_maps_event_time_onto_the_wall_clock():
    clock = ManualClock()
    pacer = EventPacer(60.0, clock=clock, sleep=clock.sleep)
    assert pacer.wait(0, 0) == 0.0  # anchors
    pacer.wait(60_000, 120_000)  # two minutes of event time at 60x: two seconds
    assert clock.slept == [2.0]
    clock.now += 5.0  # processing was slow: no sleep, never "catch up" backwards
    assert pacer.wait(180_000, 180_000) == 0.0
    assert EventPacer(None).wait(0, 10**9) == 0.0
    with pytest.raises(ValueError):
        EventPacer(0)
