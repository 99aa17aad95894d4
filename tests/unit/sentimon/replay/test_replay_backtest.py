"""File backtest source and the replay driver (no broker, no Redis)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consumers.produce import prepared, read_records
from sentimon.errors import SinkError
from sentimon.replay.driver import Driver
from sentimon.replay.file_source import FileReplay, lane_topics
from sentimon.replay.merge import EventPacer, TimeRange
from sentimon.testing import ManualClock, RecordingProcessor

T = 1_793_000_000_000


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_lane_topics_are_unique_and_safe():
    assert lane_topics([Path("a/news.jsonl"), Path("b/news.jsonl"), Path("x y.csv")]) == [
        "news",
        "news~2",
        "x_y",
    ]


def test_file_records_look_like_what_produce_publishes(tmp_path):
    rows = [
        {"text": "$NVDA up", "ts": T + 120_000},
        {"id": "b", "text": "no time"},
        {"id": "c", "text": "bad time", "ts": "soon"},
        {"id": "d", "text": "early", "ts": T - 1},
        {"id": "e", "text": "$AAPL down", "ts": "2026-10-26T07:33:21Z"},
    ]
    path = jsonl(tmp_path / "news_2026.jsonl", rows)
    source = FileReplay([path], TimeRange(T, T + 3_600_000))
    source.plan()
    items = list(source.records())
    assert [t.event_ms for t in items] == [T + 1000, T + 120_000]  # in event-time order
    first = items[1].record
    expected = next(prepared(read_records(path)))
    assert json.loads(first.value or b"") == expected  # same id derivation as `produce`
    # offsets are ranks in event-time order ("d" at T - 1 is rank 0, before the range)
    assert (first.topic, first.partition, first.offset) == ("news_2026", 0, 2)
    assert items[0].record.offset == 1
    c = source.counters
    assert (c.read, c.no_event_time, c.before, c.in_range) == (5, 2, 1, 2)
    assert source.describe()[0]["in_range"] == 2


def test_csv_files_are_merged_with_jsonl(tmp_path):
    csv_path = tmp_path / "social.csv"
    csv_path.write_text(f"id,text,ts,tickers\ns1,hello $TSLA,{T + 30_000},TSLA\n", encoding="utf-8")
    news = jsonl(
        tmp_path / "news.jsonl",
        [{"id": "n1", "text": "x", "ts": T}, {"id": "n2", "text": "y", "ts": T + 60_000}],
    )
    source = FileReplay([news, csv_path], TimeRange())
    source.plan()
    assert [(t.record.topic, t.event_ms) for t in source.records()] == [
        ("news", T),
        ("social", T + 30_000),
        ("news", T + 60_000),
    ]


class ListSource:
    def __init__(self, items: list[Any]) -> None:
        from sentimon.replay.merge import Counters

        self.items = items
        self.counters = Counters(read=len(items), in_range=len(items))

    @property
    def planned(self) -> int:
        return len(self.items)

    @property
    def expected(self) -> int | None:
        return len(self.items)

    def describe(self) -> list[dict[str, Any]]:
        return []

    def records(self) -> Any:
        yield from self.items


def items(times: list[int]) -> list[Any]:
    from consumers.records import SourceRecord
    from sentimon.replay.merge import Timed

    return [Timed(t, SourceRecord("n", 0, i, t, b"{}")) for i, t in enumerate(times)]


def test_driver_batches_by_size_and_span_and_counts():
    processor = RecordingProcessor()
    driver = Driver(processor, max_batch=2, span_ms=1000)  # type: ignore[arg-type]
    stats = driver.run(ListSource(items([0, 10, 20, 5000, 5001])))
    assert processor.writes == [[0, 1], [2], [3, 4]]
    assert (stats.batches, stats.fed, stats.scored) == (3, 5, 5)
    assert (stats.batches, stats.fed, stats.scored) == (3, 5, 5)
    assert (stats.first_event_ms, stats.last_event_ms) == (0, 5001)


def test_driver_retries_failed_writes_then_gives_up():
    slept: list[float] = []
    processor = RecordingProcessor(fail_writes=2)
    driver = Driver(processor, max_batch=10, sleep=slept.append)  # type: ignore[arg-type]
    stats = driver.run(ListSource(items([0, 1])))
    assert processor.writes == [[0, 1]] and stats.retries == 2 and slept == [0.25, 0.5]
    stubborn = Driver(
        RecordingProcessor(fail_writes=99), max_batch=10, retries=1, sleep=slept.append
    )  # type: ignore[arg-type]
    with pytest.raises(SinkError):
        stubborn.run(ListSource(items([0])))


def test_driver_paces_batches_by_event_time():
    clock = ManualClock(0.0)
    pacer = EventPacer(10.0, clock=clock, sleep=clock.sleep)
    driver = Driver(RecordingProcessor(), max_batch=1, pacer=pacer)  # type: ignore[arg-type]
    driver.run(ListSource(items([0, 10_000, 30_000])))
    assert clock.slept == [1.0, 2.0]


class Bar:
    def __init__(self) -> None:
        self.total: int | None = -1
        self.n = 0
        self.postfix = ""

    def update(self, n: int) -> None:
        self.n += n

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def refresh(self) -> None:
        pass


def test_progress_shows_records_applied_and_event_time_reached():
    bar = Bar()
    driver = Driver(RecordingProcessor(), max_batch=2, progress=bar)  # type: ignore[arg-type]
    driver.run(ListSource(items([T, T + 1000, T + 2000])))
    assert (bar.total, bar.n) == (3, 3)
    assert bar.postfix == "event 2026-10-26T07:33:22.000+00:00, read 3/3"
