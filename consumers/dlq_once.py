"""Dead letters effectively once: each invalid record reaches its dead-letter topic once,
however often its batch is retried, its consumer killed or its partition moved.

A dead letter is published before the batch's atomic Redis write (a record must never be
fenced as applied before its dead letter is safe in Kafka), so a retried write, a crash
or a takeover would publish it again. Three records stop that:

- in memory, per partition, the highest source offset this process has published: a
  retried batch (Redis failed after the publish) skips what it already sent;
- in Redis, per partition, ``sent``: the highest offset whose dead letter the broker has
  acknowledged (written right after the acknowledgement); a member taking over skips up
  to it;
- in Redis, per partition, ``pending``: written *before* a publish, the highest offset it
  may send and when. Offsets in ``(sent, pending]`` are in doubt: the publisher died or
  lost Redis between the two writes. Only then is the dead-letter topic itself read back
  from the reservation time (``DeadLetterReader.published``) to learn which of them made
  it, so nothing is lost and nothing sent twice.

Within a partition, records are published in offset order (writes run in batch order), so
one offset per partition describes everything sent before it. A fence rebase (the
broker lost a partition's data and its offsets start again) clears the partition's marks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from consumers.dlq import DeadLetter, DeadLetterSink, SourceId
from consumers.faults import fault_point
from sentimon.store.dlq_marks import DeadLetterLedger

log = logging.getLogger(__name__)

#: How far before its reservation the dead-letter topic is read back (clock skew between
#: this host and the broker's timestamps).
READ_BACK_MARGIN_MS = 60_000


class DeadLetterReader(Protocol):
    """Reads a dead-letter topic back: which of ``letters`` are already in it."""

    def published(self, letters: Sequence[DeadLetter], since_ms: int) -> set[SourceId]: ...


class PublishOnce:
    """A ``DeadLetterSink`` that publishes through ``inner`` at most once per record."""

    def __init__(
        self,
        inner: DeadLetterSink,
        ledger: DeadLetterLedger,
        reader: DeadLetterReader | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.inner = inner
        self.ledger = ledger
        self.reader = reader
        self.clock = clock
        #: partition field -> highest offset this process has published
        self._sent: dict[str, int] = {}

    def publish(self, letters: Sequence[DeadLetter]) -> None:
        fresh = [d for d in letters if d.record.offset > self._sent.get(_field(d), -1)]
        if not fresh:
            return
        marks = self.ledger.marks(sorted({_field(d) for d in fresh}))
        todo = self._not_yet_published(fresh, marks)
        # A reservation only ever rises: offsets still in doubt from an earlier crash stay
        # in doubt until a publish covers them.
        reserve = {f: max(o, marks[f][1]) for f, o in _highest(todo).items()}
        self.ledger.reserve(reserve, int(self.clock() * 1000))
        self.inner.publish(todo)
        fault_point("after_dead_letters")
        highest = _highest(fresh)
        for name, offset in highest.items():
            self._sent[name] = max(offset, self._sent.get(name, -1))
        self.ledger.confirm(highest)

    def reset(self, fields: Sequence[str]) -> None:
        """Forget the marks of partitions whose offsets start again (fence rebased)."""
        for name in fields:
            self._sent.pop(name, None)
        self.ledger.clear(fields)

    def _not_yet_published(
        self, letters: list[DeadLetter], marks: dict[str, tuple[int, int, int]]
    ) -> list[DeadLetter]:
        todo: list[DeadLetter] = []
        doubtful: list[DeadLetter] = []
        since = None
        for letter in letters:
            sent, pending, at = marks[_field(letter)]
            offset = letter.record.offset
            if offset <= sent:
                continue
            if offset <= pending:
                doubtful.append(letter)
                since = at if since is None else min(since, at)
            else:
                todo.append(letter)
        if doubtful:
            todo = self._resolve(doubtful, since or 0) + todo
        return todo

    def _resolve(self, doubtful: list[DeadLetter], since_ms: int) -> list[DeadLetter]:
        """Dead letters a crashed publisher may have sent: read the topic back."""
        if self.reader is None:
            log.warning(
                "%d dead letters may already be published (a publisher stopped between "
                "publishing and recording it) and the topic cannot be read back here: "
                "publishing them again",
                len(doubtful),
            )
            return doubtful
        found = self.reader.published(doubtful, since_ms - READ_BACK_MARGIN_MS)
        missing = [d for d in doubtful if d.source not in found]
        log.info(
            "dead letters in doubt after a restart: %d already in the topic, %d published now",
            len(doubtful) - len(missing),
            len(missing),
        )
        return missing


def _field(letter: DeadLetter) -> str:
    return letter.record.fence_field


def _highest(letters: Sequence[DeadLetter]) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in letters:
        name = _field(d)
        out[name] = max(d.record.offset, out.get(name, -1))
    return out
