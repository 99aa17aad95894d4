"""Micro-batching (pure: no Kafka, no Redis, an injectable clock).

A batch closes when it holds ``max_batch`` records, or ``max_wait_ms`` after its first
record arrived, whichever comes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from consumers.records import SourceRecord

Clock = Callable[[], float]


class MicroBatcher:
    """Accumulates records into batches by size and age."""

    def __init__(self, max_batch: int, max_wait_ms: int, clock: Clock = time.monotonic) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be >= 1")
        self.max_batch = max_batch
        self.max_wait_s = max_wait_ms / 1000.0
        self._clock = clock
        self._pending: list[SourceRecord] = []
        self._opened_at: float | None = None

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, records: Iterable[SourceRecord]) -> list[list[SourceRecord]]:
        """Add records; return the batches that closed because they filled up."""
        closed: list[list[SourceRecord]] = []
        for record in records:
            if not self._pending:
                self._opened_at = self._clock()
            self._pending.append(record)
            if len(self._pending) >= self.max_batch:
                closed.append(self._take())
        return closed

    def time_left(self) -> float | None:
        """Seconds until the open batch is due; None when nothing is pending."""
        if self._opened_at is None:
            return None
        return max(0.0, self._opened_at + self.max_wait_s - self._clock())

    def due(self) -> bool:
        left = self.time_left()
        return left is not None and left <= 0.0

    def take_due(self) -> list[SourceRecord] | None:
        """The open batch if its wait has expired, else None."""
        return self._take() if self.due() else None

    def flush(self) -> list[SourceRecord]:
        """Close the open batch now, whatever its size or age."""
        return self._take()

    def drop(self, keep: Callable[[SourceRecord], bool]) -> list[SourceRecord]:
        """Remove pending records for which ``keep`` is false (revoked partitions)."""
        dropped = [r for r in self._pending if not keep(r)]
        self._pending = [r for r in self._pending if keep(r)]
        if not self._pending:
            self._opened_at = None
        return dropped

    def _take(self) -> list[SourceRecord]:
        batch, self._pending, self._opened_at = self._pending, [], None
        return batch
