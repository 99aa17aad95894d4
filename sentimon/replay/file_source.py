"""File backtest source: JSONL/CSV archives fed to the same pipeline as Kafka, no broker.

Each file is one lane with a synthetic topic (its stem, made unique) and partition 0. A
file is read whole, so its records are put in event-time order first (stable: file order
among equal times) and a record's offset is its rank in that order, which keeps the
partition fences working as for Kafka. Files are then merged by event time, so a backtest
runs strictly in event time, however the archive was ordered. Records get ids exactly as ``sentimon produce`` gives them and
the same JSON encoding, so a backtest of a file and a replay of that file after
``sentimon produce`` score and aggregate identically.

A file record needs its own event time: records without a parseable ``ts`` are skipped and
counted (``no_event_time``); invalid records otherwise go through the pipeline's validation
and end up among the dead letters.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consumers.produce import event_ms, prepared, read_records
from consumers.records import SourceRecord
from sentimon.replay.merge import Counters, EventMerge, Timed, TimeRange

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class FileLane:
    topic: str
    path: Path
    items: list[Timed]
    records: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "partition": f"{self.topic}:0",
            "file": str(self.path),
            "records": self.records,
            "in_range": len(self.items),
        }


def lane_topics(paths: Sequence[Path]) -> list[str]:
    """One synthetic topic per file: its stem, made unique (``news``, ``news~2``, ...)."""
    out: list[str] = []
    for path in paths:
        base = _UNSAFE.sub("_", path.stem) or "file"
        name, n = base, 1
        while name in out:
            n += 1
            name = f"{base}~{n}"
        out.append(name)
    return out


def to_source_record(topic: str, offset: int, record: dict[str, Any]) -> SourceRecord | None:
    """The record as Kafka would carry it after ``sentimon produce`` (None: no event time)."""
    ts = event_ms(record)
    if ts is None:
        return None
    value = json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    key = str(record.get("id", "")).encode("utf-8")
    return SourceRecord(topic, 0, offset, ts, value, key)


class FileReplay:
    """Yields the in-range records of files merged by event time (``records()``)."""

    def __init__(self, paths: Sequence[Path], span: TimeRange) -> None:
        self.paths = [Path(p) for p in paths]
        self.topics = lane_topics(self.paths)
        self.span = span
        self.counters = Counters()
        self._lanes: list[FileLane] = []

    def plan(self) -> list[FileLane]:
        """Read the files (ConfigError names a file and line that cannot be read)."""
        self._lanes = [
            self._load(topic, path) for topic, path in zip(self.topics, self.paths, strict=True)
        ]
        return self._lanes

    @property
    def planned(self) -> int:
        return sum(lane.records for lane in self._lanes)

    @property
    def expected(self) -> int | None:
        """In-range records to come (the files were read whole)."""
        return self.counters.in_range

    def describe(self) -> list[dict[str, Any]]:
        return [lane.as_dict() for lane in self._lanes]

    def warnings(self) -> list[str]:
        """Files are read whole and kept by event time: nothing to warn about."""
        return []

    def records(self) -> Iterator[Timed]:
        merge = EventMerge(lane.topic for lane in self._lanes)
        for lane in self._lanes:
            merge.push(lane.topic, lane.items)
            merge.finish(lane.topic)
        yield from merge.pop_ready()

    def close(self) -> None:
        self._lanes = []

    def _load(self, topic: str, path: Path) -> FileLane:
        raw = read_records(path)
        timed: list[tuple[int, dict[str, Any]]] = []
        for record in prepared(raw):
            ts = event_ms(record)
            if ts is not None:
                timed.append((ts, record))
        missing = len(raw) - len(timed)
        if missing:
            log.warning("%s: %d records have no parseable 'ts' and are skipped", path, missing)
        timed.sort(key=lambda pair: pair[0])  # stable: file order among equal times
        items = []
        for offset, (_, record) in enumerate(timed):
            source = to_source_record(topic, offset, record)
            assert source is not None
            items.append(Timed(source.timestamp_ms, source))
        self.counters.read += len(raw)
        self.counters.no_event_time += missing
        kept = self.counters.keep(self.span, items)
        return FileLane(topic, path, kept, len(raw))
