"""Kafka replay source: an event-time range of topics, read without a consumer group.

The consumer uses manual assignment (``group_id=None``, no auto-commit, never ``commit``),
so a replay never moves a group's offsets and never takes partitions from live consumers.

Per partition it reads ``[start, stop)``:

- ``start``: ``offsets_for_times(T0 - slack)``. On Apache Kafka that is the first record
  stamped at or after the target. The embedded broker (Tansu) searches by the time it
  *received* records and answers ``OffsetAndTimestamp(offset=0, timestamp=-1)`` instead of
  ``None`` past the end: both ``None`` and ``timestamp < 0`` mean "nothing at or after",
  so the partition is skipped. Without ``--from`` (or with ``scan_all``) it is the
  beginning offset.
- ``stop``: the high-water mark of the first fetch response (``consumer.highwater``), which
  is right on both brokers (Tansu's ``end_offsets`` is not); records appended after the
  replay started are never read. With ``--to`` a partition also stops at its first record
  stamped ``T1 + slack`` or later.

Every record is then kept only if its own event time (``ts``) lies in ``[T0, T1)``, so the
broker's time index only ever makes the replay faster, never changes what it counts.
``slack`` is how far broker timestamps may run apart from event times; ``scan_all`` reads
whole partitions for topics whose broker timestamps are not event times at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError, UnsupportedVersionError

from consumers.source import to_record
from sentimon.errors import ConfigError, SentimonError
from sentimon.kafka_config import client_config
from sentimon.replay.merge import Counters, EventMerge, Timed, TimeRange, event_time
from sentimon.settings import Settings

log = logging.getLogger(__name__)

_POLL_MS = 100


class ReplayError(SentimonError):
    """The broker stopped serving a partition of the replay."""


@dataclass
class LanePlan:
    """What the replay reads from one partition."""

    topic: str
    partition: int
    start: int | None  # None: nothing to read
    how: str
    stop: int | None = None  # the high-water mark seen at start
    read: int = 0
    finished: bool = False
    stopped_early: bool = False

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)

    def as_dict(self) -> dict[str, Any]:
        return {
            "partition": f"{self.topic}:{self.partition}",
            "start": self.start,
            "stop": self.stop,
            "how": self.how,
            "read": self.read,
            "stopped_early": self.stopped_early,
        }


def choose_start(answer: Any, beginning: int) -> tuple[int | None, str]:
    """Start offset from one ``offsets_for_times`` answer (see the module docstring)."""
    if answer is None:
        return None, "nothing at or after the start"
    if answer.timestamp is None or answer.timestamp < 0:
        return None, "nothing at or after the start (broker answered timestamp -1)"
    return max(int(answer.offset), beginning), "by time"


class KafkaReplay:
    """Yields the in-range records of ``topics`` merged by event time (``records()``)."""

    def __init__(
        self,
        settings: Settings,
        topics: list[str],
        span: TimeRange,
        *,
        slack_ms: int = 3_600_000,
        scan_all: bool = False,
        buffer_limit: int = 20_000,
        stall_s: float = 30.0,
        consumer: Any = None,
    ) -> None:
        self.topics = topics
        self.span = span
        self.slack_ms = slack_ms
        self.scan_all = scan_all
        self.buffer_limit = buffer_limit
        self.stall_s = stall_s
        self.counters = Counters()
        self.consumer = consumer or KafkaConsumer(
            **client_config(settings, "sentimon-replay"),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=2000,
            fetch_max_wait_ms=100,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self._lanes: dict[TopicPartition, LanePlan] = {}
        self._order: list[TopicPartition] = []
        self._merge: EventMerge | None = None

    # --- planning ----------------------------------------------------------------------
    def plan(self) -> list[LanePlan]:
        """Assign every partition, seek to the start offsets, learn the high-water marks."""
        try:
            return self._plan()
        except KafkaError as exc:
            raise ReplayError(f"planning the replay failed: {exc}; is the broker healthy?") from exc

    def _plan(self) -> list[LanePlan]:
        tps = self._partitions()
        self.consumer.assign(tps)
        starts = self._start_offsets(tps)
        for tp in tps:
            start, how = starts[tp]
            lane = LanePlan(tp.topic, tp.partition, start, how)
            self._lanes[tp] = lane
            if start is None:
                lane.finished = True
            else:
                self.consumer.seek(tp, start)
        self._order = tps
        active = [tp for tp in tps if not self._lanes[tp].finished]
        if len(active) < len(tps):
            self.consumer.pause(*[tp for tp in tps if self._lanes[tp].finished])
        self._merge = EventMerge(active)
        self._probe_stops()
        return [self._lanes[tp] for tp in tps]

    def describe(self) -> list[dict[str, Any]]:
        """Per partition: start, stop, how the start was found, records read."""
        return [self._lanes[tp].as_dict() for tp in self._order]

    @property
    def expected(self) -> int | None:
        """In-range records to come: unknown until the partitions are read."""
        return None

    @property
    def planned(self) -> int:
        """Records between the start offsets and the high-water marks (an upper bound)."""
        return sum(
            max(0, lane.stop - lane.start)
            for lane in self._lanes.values()
            if lane.start is not None and lane.stop is not None
        )

    def _partitions(self) -> list[TopicPartition]:
        out: list[TopicPartition] = []
        for topic in self.topics:
            parts = self.consumer.partitions_for_topic(topic)
            if not parts:
                raise ConfigError(
                    f"topic {topic!r} does not exist on the broker; "
                    "check the name with `sentimon topics describe`"
                )
            out.extend(TopicPartition(topic, p) for p in sorted(parts))
        return out

    def _start_offsets(
        self, tps: list[TopicPartition]
    ) -> dict[TopicPartition, tuple[int | None, str]]:
        begin = self.consumer.beginning_offsets(tps)
        if self.span.from_ms is None or self.scan_all:
            why = "whole partition (--scan-all)" if self.scan_all else "beginning (no --from)"
            return {tp: (int(begin[tp]), why) for tp in tps}
        target = max(self.span.from_ms - self.slack_ms, 0)
        try:
            answers = self.consumer.offsets_for_times({tp: target for tp in tps})
        except UnsupportedVersionError:
            log.warning("the broker cannot look offsets up by time; reading from the beginning")
            return {tp: (int(begin[tp]), "beginning (no time index)") for tp in tps}
        return {tp: choose_start(answers.get(tp), int(begin[tp])) for tp in tps}

    def _probe_stops(self) -> None:
        """Poll until every partition to read has reported its high-water mark."""
        deadline = time.monotonic() + self.stall_s
        while any(lane.stop is None for lane in self._open()):
            if time.monotonic() > deadline:
                missing = [
                    f"{lane.topic}:{lane.partition}" for lane in self._open() if lane.stop is None
                ]
                raise ReplayError(
                    f"no fetch response for {', '.join(missing)} within {self.stall_s:.0f}s; "
                    "is the broker healthy? (`sentimon status`)"
                )
            self._poll_once()

    # --- reading -----------------------------------------------------------------------
    def records(self) -> Iterator[Timed]:
        """The in-range records, merged by event time; call ``plan()`` first."""
        merge = self._merge
        if merge is None:
            raise RuntimeError("call plan() before records()")
        idle_since = time.monotonic()
        while True:
            yield from merge.pop_ready()
            if merge.done:
                return
            if self._poll_once():
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > self.stall_s:
                waiting = ", ".join(sorted(f"{tp[0]}:{tp[1]}" for tp in merge.starving()))  # type: ignore[index]
                raise ReplayError(
                    f"no records from {waiting} for {self.stall_s:.0f}s before the "
                    "high-water mark seen at start; the broker may have lost data"
                )

    def close(self) -> None:
        self.consumer.close(autocommit=False)

    def _open(self) -> list[LanePlan]:
        return [lane for lane in self._lanes.values() if not lane.finished]

    def _poll_once(self) -> bool:
        """One poll; returns whether anything progressed (records read or lanes finished)."""
        fetched = self.consumer.poll(timeout_ms=_POLL_MS)
        self._learn_stops()
        read = 0
        for tp, messages in fetched.items():
            read += self._take(self._lanes[tp], messages)
        finished = self._finish_drained()
        self._flow_control()
        return bool(read or finished)

    def _learn_stops(self) -> None:
        for lane in self._open():
            if lane.stop is None:
                high = self.consumer.highwater(lane.tp)
                if high is not None:
                    lane.stop = int(high)

    def _take(self, lane: LanePlan, messages: list[Any]) -> int:
        assert self._merge is not None
        if lane.finished:
            return 0
        items: list[Timed] = []
        read = 0
        for message in messages:
            if lane.stop is not None and message.offset >= lane.stop:
                self._finish(lane)
                break
            record = to_record(message)
            read += 1
            timed = Timed(event_time(record), record)
            self._note_skew(timed)
            if self._past_end(record.timestamp_ms):
                self.counters.after += 1
                lane.stopped_early = True
                self._finish(lane)
                break
            items.append(timed)
        lane.read += read
        self.counters.read += read
        kept = self._keep(items)
        self._merge.push(lane.tp, kept)
        if lane.finished:
            self._merge.finish(lane.tp)
        return read

    def _note_skew(self, timed: Timed) -> None:
        """Count records whose broker timestamp is further than ``slack`` from their event
        time: on such a topic the time index and the stop at ``--to`` miss records."""
        if abs(timed.record.timestamp_ms - timed.event_ms) > self.slack_ms:
            self.counters.skewed += 1

    def warnings(self) -> list[str]:
        """What the summary and the log should tell the user about this replay's reads."""
        if self.scan_all or not self.counters.skewed:
            return []
        found = (
            "found no record in the range"
            if not self.counters.in_range
            else f"kept {self.counters.in_range} records"
        )
        return [
            f"{self.counters.skewed} of {self.counters.read} records read carry a broker "
            f"timestamp more than {self.slack_ms // 1000}s (--slack) from their event time "
            "(a backfilled topic: record timestamps are produce times); the replay finds "
            f"where to start and stop by broker time, so it {found} and may have missed "
            "records: replay with --scan-all (reads whole partitions and keeps records by "
            "event time) or a wider --slack"
        ]

    def _past_end(self, broker_ms: int) -> bool:
        end = self.span.to_ms
        return not self.scan_all and end is not None and broker_ms >= end + self.slack_ms

    def _keep(self, items: list[Timed]) -> list[Timed]:
        return self.counters.keep(self.span, items)

    def _finish_drained(self) -> bool:
        """Finish lanes whose position reached the stop (also past control records)."""
        assert self._merge is not None
        done = False
        for lane in self._open():
            if lane.stop is not None and self.consumer.position(lane.tp) >= lane.stop:
                self._finish(lane)
                self._merge.finish(lane.tp)
                done = True
        return done

    def _finish(self, lane: LanePlan) -> None:
        if not lane.finished:
            lane.finished = True
            self.consumer.pause(lane.tp)
            if lane.stopped_early and lane.read == 1:
                log.warning(
                    "%s:%d: the first record read is stamped after the range end; if this "
                    "topic's record timestamps are not event times, replay with --scan-all",
                    lane.topic,
                    lane.partition,
                )

    def _flow_control(self) -> None:
        """Pause partitions far ahead of the merge; resume them once it caught up."""
        assert self._merge is not None
        for lane in self._open():
            buffered = self._merge.buffered(lane.tp)
            if buffered >= self.buffer_limit:
                self.consumer.pause(lane.tp)
            elif buffered <= self.buffer_limit // 2 and lane.tp in self.consumer.paused():
                self.consumer.resume(lane.tp)
