"""Drives a replay or file-backtest source through the live ``BatchProcessor``.

Records arrive merged by event time; ``EventBatcher`` cuts them into batches (a function of
the records only), ``EventPacer`` holds each batch until its event time is due at the
chosen speed, and each batch goes through the same validation, scoring, aggregation and
alert hooks as in the live consumer. A failed Redis write is retried (the partition fences
make a retry safe) and finally raised.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from consumers.pipeline import BatchProcessor, BatchResult
from sentimon.errors import SinkError
from sentimon.replay.merge import Counters, EventBatch, EventBatcher, EventPacer, Timed, iso

log = logging.getLogger(__name__)


class ReplaySource(Protocol):
    counters: Counters

    @property
    def planned(self) -> int: ...

    @property
    def expected(self) -> int | None: ...

    def describe(self) -> list[dict[str, Any]]: ...

    def warnings(self) -> list[str]: ...

    def records(self) -> Iterator[Timed]: ...


@dataclass
class RunStats:
    """What the run fed to the pipeline and what came out."""

    batches: int = 0
    fed: int = 0
    scored: int = 0
    invalid: int = 0
    duplicates: int = 0
    already_applied: int = 0
    first_event_ms: int | None = None
    last_event_ms: int | None = None
    seconds: float = 0.0
    paced_s: float = 0.0
    retries: int = 0
    per_topic: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, batch: list[Timed], result: BatchResult) -> None:
        self.batches += 1
        self.fed += len(batch)
        self.scored += result.scored
        self.invalid += result.invalid
        self.duplicates += result.duplicates
        self.already_applied += result.skipped
        lo = min(t.event_ms for t in batch)
        hi = max(t.event_ms for t in batch)
        self.first_event_ms = lo if self.first_event_ms is None else min(self.first_event_ms, lo)
        self.last_event_ms = hi if self.last_event_ms is None else max(self.last_event_ms, hi)
        for topic, counts in result.per_topic.items():
            self.per_topic.setdefault(topic, Counter()).update(counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "fed": self.fed,
            "scored": self.scored,
            "dlq": self.invalid,
            "duplicates": self.duplicates,
            "already_applied": self.already_applied,
            "first_event_ms": self.first_event_ms,
            "last_event_ms": self.last_event_ms,
            "first_event": iso(self.first_event_ms),
            "last_event": iso(self.last_event_ms),
            "per_topic": {t: dict(sorted(c.items())) for t, c in sorted(self.per_topic.items())},
        }


class Driver:
    """Feeds a source's records to ``processor`` in event-time batches."""

    def __init__(
        self,
        processor: BatchProcessor,
        *,
        max_batch: int,
        span_ms: int = 300_000,
        pacer: EventPacer | None = None,
        progress: Any = None,
        on_batch: Callable[[RunStats], None] | None = None,
        retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.processor = processor
        self.batcher = EventBatcher(max_batch, span_ms)
        self.pacer = pacer or EventPacer(None)
        self.progress = progress
        self.on_batch = on_batch
        self.retries = retries
        self._sleep = sleep
        self.stats = RunStats()
        self._source: ReplaySource | None = None

    def run(self, source: ReplaySource) -> RunStats:
        started = time.perf_counter()
        self._attach_progress(source)
        for item in source.records():
            closed = self.batcher.add(item)
            if closed is not None:
                self._apply(closed)
        rest = self.batcher.flush()
        if rest is not None:
            self._apply(rest)
        self.stats.seconds = time.perf_counter() - started
        return self.stats

    def _attach_progress(self, source: ReplaySource) -> None:
        """The bar counts records applied; its total is known for files (read whole)."""
        self._source = source
        if self.progress is None:
            return
        self.progress.total = source.expected
        self.progress.refresh()

    def _apply(self, batch: EventBatch) -> None:
        self.stats.paced_s += self.pacer.wait(batch.start_ms, batch.end_ms)
        result = self._process(batch.records)
        self.stats.add(batch.items, result)
        if self.progress is not None:
            self.progress.update(len(batch.items))
            read = self._source.counters.read if self._source is not None else 0
            planned = self._source.planned if self._source is not None else 0
            self.progress.set_postfix_str(
                f"event {iso(batch.end_ms)}, read {read}/{planned}", refresh=False
            )
        if self.on_batch is not None:
            self.on_batch(self.stats)

    def _process(self, records: list[Any]) -> BatchResult:
        for attempt in range(self.retries + 1):
            try:
                return self.processor.process(records)
            except SinkError as exc:
                if attempt >= self.retries:
                    raise
                delay = min(10.0, 0.25 * 2**attempt)
                self.stats.retries += 1
                log.warning("batch failed (%s); retrying in %.1fs", exc, delay)
                self._sleep(delay)
        raise AssertionError("unreachable")
