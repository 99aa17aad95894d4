"""Event-time plumbing shared by Kafka replays and file backtests (pure: no Kafka, no Redis).

- ``event_time``: a record's own event time, as the pipeline will see it (the ``ts`` field,
  else the broker timestamp).
- ``TimeRange``: the half-open event-time range ``[from, to)`` a replay keeps.
- ``EventMerge``: a k-way merge of per-partition lanes by event time. It only emits once every
  unfinished lane has a record waiting, so its output is a function of the lanes' contents
  alone, never of fetch timing; per-lane (offset) order is kept, which the fences need.
- ``EventBatcher``: cuts the merged stream into batches of at most ``max_batch`` records
  during which the watermark (latest event time so far) moves less than ``span_ms``. The
  cuts depend on the records only, not on the clock or the pacing speed, so two replays of
  a range score and alert identically.
- ``EventPacer``: sleeps so that event time advances at ``speed`` x real time.
"""

from __future__ import annotations

import heapq
import json
import time
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from consumers.records import SourceRecord
from sentimon.contract import parse_ts

Lane = Hashable


@dataclass(frozen=True)
class Timed:
    """A record with its event time (epoch ms)."""

    event_ms: int
    record: SourceRecord

    @property
    def key(self) -> tuple[int, str, int, int]:
        r = self.record
        return (self.event_ms, r.topic, r.partition, r.offset)


def event_time(record: SourceRecord) -> int:
    """The record's ``ts`` field as epoch ms when it parses, else its broker timestamp
    (invalid records are placed, and filtered, by the broker timestamp)."""
    if not record.value:
        return record.timestamp_ms
    try:
        obj = json.loads(record.value)
    except ValueError:  # not JSON, not UTF-8: the pipeline dead-letters it
        return record.timestamp_ms
    if isinstance(obj, dict) and obj.get("ts") is not None:
        ts = parse_ts(obj["ts"])
        if isinstance(ts, int):
            return ts
    return record.timestamp_ms


@dataclass(frozen=True)
class TimeRange:
    """Event times ``from_ms <= t < to_ms``; None means unbounded on that side."""

    from_ms: int | None = None
    to_ms: int | None = None

    def __post_init__(self) -> None:
        if self.from_ms is not None and self.to_ms is not None and self.from_ms >= self.to_ms:
            raise ValueError("the range is empty: --from must be before --to")

    def position(self, event_ms: int) -> int:
        """-1 before the range, 0 inside, 1 after."""
        if self.from_ms is not None and event_ms < self.from_ms:
            return -1
        if self.to_ms is not None and event_ms >= self.to_ms:
            return 1
        return 0

    def as_dict(self) -> dict[str, int | str | None]:
        return {
            "from_ms": self.from_ms,
            "to_ms": self.to_ms,
            "from": iso(self.from_ms),
            "to": iso(self.to_ms),
        }


def iso(ms: int | None) -> str | None:
    """Epoch ms as ISO-8601 UTC with milliseconds (None stays None)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")


@dataclass
class Counters:
    """What a source read and how much of it fell in the range."""

    read: int = 0
    in_range: int = 0
    before: int = 0
    after: int = 0
    #: file records without a parseable ``ts`` (skipped)
    no_event_time: int = 0
    #: records whose broker timestamp lies further than the slack from their event time
    skewed: int = 0

    def keep(self, span: TimeRange, items: Iterable[Timed]) -> list[Timed]:
        """The items inside ``span``; counts the others."""
        kept = []
        for item in items:
            where = span.position(item.event_ms)
            if where == 0:
                kept.append(item)
            elif where < 0:
                self.before += 1
            else:
                self.after += 1
        self.in_range += len(kept)
        return kept

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "in_range": self.in_range,
            "before_range": self.before,
            "after_range": self.after,
            "no_event_time": self.no_event_time,
            "skewed_timestamps": self.skewed,
        }


class EventMerge:
    """Merges lanes (one per partition or file) by ``(event time, topic, partition, offset)``."""

    def __init__(self, lanes: Iterable[Lane]) -> None:
        self._queues: dict[Lane, deque[Timed]] = {}
        self._heap: list[tuple[tuple[int, str, int, int], int, Lane]] = []
        self._blocked: set[Lane] = set()  # unfinished lanes with nothing buffered
        self._finished: set[Lane] = set()
        self._order: dict[Lane, int] = {}
        for lane in lanes:
            self._queues[lane] = deque()
            self._order[lane] = len(self._order)
            self._blocked.add(lane)

    def push(self, lane: Lane, items: Iterable[Timed]) -> None:
        queue = self._queues[lane]
        queue.extend(items)
        if lane in self._blocked and queue:
            self._blocked.discard(lane)
            self._push_head(lane)

    def finish(self, lane: Lane) -> None:
        """No more items will come for ``lane``."""
        self._finished.add(lane)
        self._blocked.discard(lane)

    def buffered(self, lane: Lane) -> int:
        return len(self._queues[lane])

    def starving(self) -> set[Lane]:
        """Unfinished lanes the merge is waiting for."""
        return set(self._blocked)

    @property
    def done(self) -> bool:
        return not self._heap and not self._blocked

    def pop_ready(self) -> list[Timed]:
        """Everything that can be emitted before some unfinished lane needs more input."""
        out: list[Timed] = []
        while self._heap and not self._blocked:
            _, _, lane = heapq.heappop(self._heap)
            out.append(self._queues[lane].popleft())
            if self._queues[lane]:
                self._push_head(lane)
            elif lane not in self._finished:
                self._blocked.add(lane)
        return out

    def _push_head(self, lane: Lane) -> None:
        head = self._queues[lane][0]
        heapq.heappush(self._heap, (head.key, self._order[lane], lane))


@dataclass(frozen=True)
class EventBatch:
    """Records to apply together, and the stream's watermark when the batch opened and
    when it closed (the event time the replay has reached)."""

    items: list[Timed]
    start_ms: int
    end_ms: int

    @property
    def records(self) -> list[SourceRecord]:
        return [t.record for t in self.items]


class EventBatcher:
    """Closes a batch at ``max_batch`` records, or before a record that would move the
    stream's watermark (the latest event time seen so far) ``span_ms`` or more past where it
    stood when the batch opened. Late records never move the watermark back, so disordered
    input still fills batches instead of splitting them at every record."""

    def __init__(self, max_batch: int, span_ms: int = 300_000) -> None:
        if max_batch < 1 or span_ms < 1:
            raise ValueError("max_batch and span_ms must be >= 1")
        self.max_batch = max_batch
        self.span_ms = span_ms
        self.watermark: int | None = None
        self._items: list[Timed] = []
        self._opened = 0

    def add(self, item: Timed) -> EventBatch | None:
        """Add one item; return the batch it closed, if any."""
        mark = item.event_ms if self.watermark is None else max(self.watermark, item.event_ms)
        closed = None
        if self._items and (
            len(self._items) >= self.max_batch or mark - self._opened >= self.span_ms
        ):
            closed = self.flush()
        if not self._items:
            self._opened = mark
        self._items.append(item)
        self.watermark = mark
        return closed

    def flush(self) -> EventBatch | None:
        """Close the open batch (None when nothing is pending)."""
        if not self._items:
            return None
        assert self.watermark is not None
        batch = EventBatch(self._items, self._opened, self.watermark)
        self._items = []
        return batch


class EventPacer:
    """Maps event time onto the wall clock at ``speed`` x; ``speed=None`` never waits."""

    def __init__(
        self,
        speed: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self._clock = clock
        self._sleep = sleep
        self._anchor: tuple[float, int] | None = None

    def wait(self, first_ms: int, last_ms: int) -> float:
        """Before applying a batch covering event time ``first_ms..last_ms``: sleep until
        ``last_ms`` is due. Returns the seconds slept. The first batch anchors event time."""
        if self.speed is None:
            return 0.0
        if self._anchor is None:
            self._anchor = (self._clock(), first_ms)
        wall0, event0 = self._anchor
        due = wall0 + (last_ms - event0) / 1000.0 / self.speed
        delay = due - self._clock()
        if delay <= 0:
            return 0.0
        self._sleep(delay)
        return delay
