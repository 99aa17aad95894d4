"""The consume loop: poll -> micro-batch -> process on a worker thread -> commit.

The Kafka consumer is only touched on the loop's thread (kafka-python is not thread-safe).
Batches are scored on scorer threads (as many as the scorer can run at once: two for ONNX
Runtime on CPU) and written on one writer thread, so while batch N is dead-lettered,
alert-evaluated and written, the next ones are already being scored, and polling overlaps
with all of them (inference releases the GIL). Writes and commits stay strictly in batch
order: a failed write poisons the batches behind it, and all of them are retried in order.
Under a backlog (more batches queued behind the one submitted) the writer waits for the
next batches' scoring and writes up to ``coalesce`` of them as one
(``consumers.staged.merge_staged``): one Redis script, one alert read and evaluation per
group instead of per batch, while scoring units stay small. Without a backlog a batch is
written as soon as it is scored, with whatever later batches happen to be scored too.
While the pipeline is full and another batch is queued, all partitions are paused but
``poll`` keeps being called, so long inference never gets the member evicted from its
group. Offsets are committed after the Redis write: at once when the pipeline has
nothing else to do, else at most every ``commit_interval_s`` (one Kafka commit then covers
every batch written since the last one; the fences make a re-read of those batches after
a crash a no-op).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from consumers.batching import MicroBatcher
from consumers.faults import fault_point
from consumers.pipeline import BatchProcessor
from consumers.records import SourceRecord
from consumers.staged import BatchResult, StagedBatch, merge_staged
from inference.scorer import concurrency_of
from sentimon.errors import SentimonError, SinkError

log = logging.getLogger(__name__)

_IDLE_POLL_S = 0.1
_BUSY_POLL_S = 0.02
#: With the pipeline full and a batch queued there is nothing to poll for: wait for the
#: oldest batch instead (kafka-python heartbeats on its own thread), at most this long.
_FULL_WAIT_S = 0.25
_MAX_BACKOFF_S = 10.0
#: Under a backlog, how long the writer waits for the next batch's scoring to merge it
#: into the write it is assembling (a CPU batch of 64 scores in 0.1-0.3 s).
_HOLD_S = 0.5


class Source(Protocol):
    def poll(self, timeout_s: float) -> list[SourceRecord]: ...
    def commit(self, offsets: dict[tuple[str, int], int], *, blocking: bool = True) -> None: ...
    def rewind(self, offsets: dict[tuple[str, int], int]) -> None: ...
    def pause_all(self) -> None: ...
    def resume_all(self) -> None: ...
    def close(self, timeout_s: float = 5.0) -> None: ...


@dataclass
class LoopStats:
    started: float = field(default_factory=time.monotonic)
    records: int = 0
    scored: int = 0
    invalid: int = 0
    batches: int = 0
    retries: int = 0
    first_poll: float | None = None
    last_commit: float | None = None
    #: This process's CPU time (all threads) at the first poll and at the last commit.
    cpu_first_poll: float | None = None
    cpu_last_commit: float | None = None
    last_batch_wall: float | None = None
    #: Batches written as part of an earlier batch's write (``batches`` counts writes).
    coalesced: int = 0


@dataclass
class _Pending:
    """A submitted batch on its way to the writer."""

    staged: Future[StagedBatch]
    #: Submitted with more batches queued behind it: its write may wait for theirs.
    backlog: bool
    #: Written by an earlier batch's write.
    absorbed: bool = False


def in_flight_bound(scorers: int, coalesce: int) -> int:
    """How many batches a loop keeps submitted and not yet written: up to ``coalesce``
    written as one, the next ``coalesce`` staged behind them, and ``scorers`` more being
    scored. A writer that finishes a write finds its next group scored (with one group's
    depth it waited for the loop to submit and score it; one cheap-scorer process ran 9 %
    faster with two)."""
    return scorers + 2 * coalesce


class ConsumeLoop:
    """Runs until stopped (signal, ``stop()``) or idle for ``until_idle_s``."""

    def __init__(
        self,
        processor: BatchProcessor,
        *,
        max_batch: int,
        max_wait_ms: int,
        until_idle_s: float | None = None,
        on_batch: Callable[[BatchResult], None] | None = None,
        on_tick: Callable[[], None] | None = None,
        on_stopping: Callable[[], None] | None = None,
        commit_interval_s: float = 0.0,
        coalesce: int = 1,
    ) -> None:
        self.processor = processor
        self.batcher = MicroBatcher(max_batch, max_wait_ms)
        self.until_idle_s = until_idle_s
        self.on_batch = on_batch
        self.on_tick = on_tick
        self.on_stopping = on_stopping
        self.stats = LoopStats()
        self.commit_interval_s = commit_interval_s
        # Offsets (next to read) of batches written to Redis but not yet committed.
        self._written: dict[tuple[str, int], int] = {}
        self._last_kafka_commit = time.monotonic()
        self.source: Source | None = None
        self._queue: deque[list[SourceRecord]] = deque()
        scorers = concurrency_of(processor.scorer)
        if coalesce < 1:
            raise ValueError("coalesce must be >= 1")
        self.coalesce = coalesce
        self.max_in_flight = in_flight_bound(scorers, coalesce)
        self._in_flight: deque[tuple[list[SourceRecord], Future[BatchResult]]] = deque()
        # Submitted batches not yet taken by the writer, in order (loop and writer thread).
        self._pending: deque[_Pending] = deque()
        self._pending_lock = threading.Lock()
        self._scorer = ThreadPoolExecutor(scorers, thread_name_prefix="sentimon-score")
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sentimon-write")
        # Set when a write fails: later batches must not be written (or committed) before
        # it, so they fail fast and everything in flight is retried in order.
        self._poisoned = threading.Event()
        self._stop = threading.Event()
        self._last_record = time.monotonic()
        self._backoff = 0.0

    # --- control -----------------------------------------------------------------------
    def stop(self, *_: Any) -> None:
        if not self._stop.is_set():
            log.info("stopping: finishing the current batch, then leaving the group")
        self._stop.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    # --- rebalance callbacks (called inside poll, on the loop thread) ------------------
    def on_assigned(self, partitions: list[tuple[str, int]]) -> None:
        log.info("assigned %d partitions: %s", len(partitions), partitions)

    def on_revoked(self, partitions: list[tuple[str, int]]) -> None:
        """Finish the in-flight batch (we still own its partitions) and commit it; drop
        queued and buffered records of revoked partitions uncommitted, and rewind those
        partitions to the first dropped record. A partition that moves away is re-read by
        its next owner from the committed offset; one that comes back to this member
        keeps its fetch position (kafka-python keeps the state of a partition that is in
        both assignments), so without the rewind its dropped records would never be read
        again. Either way the fence skips whatever was already applied."""
        if not partitions:
            return
        revoked = set(partitions)
        self._finish_in_flight(block=True, in_callback=True)
        self._commit_written(force=True, blocking=False)
        keep: Callable[[SourceRecord], bool] = lambda r: (r.topic, r.partition) not in revoked  # noqa: E731
        dropped = self.batcher.drop(keep)
        for i, batch in enumerate(self._queue):
            dropped += [r for r in batch if not keep(r)]
            self._queue[i] = [r for r in batch if keep(r)]
        self._queue = deque(b for b in self._queue if b)
        first: dict[tuple[str, int], int] = {}
        for r in dropped:
            part = (r.topic, r.partition)
            first[part] = min(r.offset, first.get(part, r.offset))
        if first and self.source is not None:
            self.source.rewind(first)
        self.processor.forget_partitions([f"{t}:{p}" for t, p in partitions])
        log.info(
            "revoked %d partitions; dropped %d uncommitted records (rewound to the first)",
            len(partitions),
            len(dropped),
        )

    # --- the loop ----------------------------------------------------------------------
    def run(self, source: Source) -> int:
        self.source = source
        try:
            while not self._stop.is_set():
                self._step(source)
                if self._idle_expired():
                    log.info("idle for %.1fs: exiting", self.until_idle_s)
                    break
            self._drain(source)
            if self.on_stopping:
                self.on_stopping()
        finally:
            self._scorer.shutdown(wait=True)
            self._writer.shutdown(wait=True)
            source.close()
        return 0

    def _step(self, source: Source) -> None:
        self._finish_in_flight(block=False)
        self._submit_next()
        self._commit_written()
        busy = bool(self._in_flight)
        full = len(self._in_flight) >= self.max_in_flight and bool(self._queue)
        if full:
            source.pause_all()
            _, head = self._in_flight[0]
            wait([head], timeout=_FULL_WAIT_S)
            self._finish_in_flight(block=False)
            self._submit_next()
        else:
            source.resume_all()
        left = self.batcher.time_left()
        if full:
            timeout = 0.0
        elif busy:
            timeout = min(_BUSY_POLL_S, left if left is not None else _BUSY_POLL_S)
        else:
            timeout = min(_IDLE_POLL_S, left if left is not None else 1.0)
        records = source.poll(timeout)
        if records:
            fault_point("after_poll")
            self._last_record = time.monotonic()
            if self.stats.first_poll is None:
                self.stats.first_poll = self._last_record
                self.stats.cpu_first_poll = time.process_time()
            self._queue.extend(self.batcher.add(records))
        due = self.batcher.take_due()
        if due:
            self._queue.append(due)
        if self.on_tick:
            self.on_tick()

    def _idle_expired(self) -> bool:
        if self.until_idle_s is None or self._in_flight or self._queue or len(self.batcher):
            return False
        return time.monotonic() - self._last_record >= self.until_idle_s

    def _submit_next(self) -> None:
        while len(self._in_flight) < self.max_in_flight and self._queue:
            if self._backoff and time.monotonic() < self._backoff:
                return
            batch = self._queue.popleft()
            pending = _Pending(
                self._scorer.submit(self.processor.score_phase, batch), bool(self._queue)
            )
            with self._pending_lock:
                self._pending.append(pending)
            self._in_flight.append((batch, self._writer.submit(self._write_when_scored, pending)))

    def _write_when_scored(self, pending: _Pending) -> BatchResult:
        """Runs on the writer thread, strictly in batch order: writes ``pending`` and the
        scored batches right behind it, or nothing if an earlier write carried it."""
        with self._pending_lock:
            if self._pending and self._pending[0] is pending:
                self._pending.popleft()
        try:
            if self._poisoned.is_set():
                raise SinkError("an earlier batch failed: retrying in order")
            if pending.absorbed:
                return BatchResult(merged=0)
            group = [pending.staged.result()]
            group += [p.staged.result() for p in self._take_followers(pending.backlog)]
            return self.processor.write_phase(merge_staged(group))
        except BaseException:
            self._poisoned.set()
            raise

    def _take_followers(self, backlog: bool) -> list[_Pending]:
        """The batches behind the one being written that join its write: those already
        scored, and under a backlog those that finish scoring within ``_HOLD_S``."""
        taken: list[_Pending] = []
        while len(taken) + 1 < self.coalesce:
            with self._pending_lock:
                follower = self._pending[0] if self._pending else None
            if follower is None:
                break
            if backlog and not follower.staged.done():
                wait([follower.staged], timeout=_HOLD_S)
            if not follower.staged.done() or follower.staged.exception() is not None:
                break  # a batch whose scoring failed is retried by its own write
            with self._pending_lock:
                self._pending.popleft()
            follower.absorbed = True
            taken.append(follower)
            backlog = follower.backlog
        return taken

    def _finish_in_flight(self, *, block: bool, in_callback: bool = False) -> None:
        """Count finished batches in order and commit them (with ``block``, wait for all).
        ``in_callback``: inside a rebalance callback, which kafka-python runs on its I/O
        thread, where a blocking commit raises and a sleep stalls heartbeats: a failed
        write is requeued without its backoff (the revoke then drops and rewinds it), and
        nothing is committed here (the caller sends the commit without waiting)."""
        while self._in_flight:
            _, future = self._in_flight[0]
            if not block and not future.done():
                return
            try:
                result = future.result()
            except SentimonError as exc:
                self._retry_later(exc)
                if block and not in_callback:
                    self._wait_backoff()
                    self._submit_next()
                    continue
                return
            self._in_flight.popleft()
            self._backoff = 0.0
            self._written_batch(result, commit=not in_callback)

    def _retry_later(self, exc: Exception) -> None:
        """Requeue every in-flight batch, in order, after the failed one finished."""
        for _, future in self._in_flight:
            with contextlib.suppress(Exception):
                future.result()
        batches = [batch for batch, _ in self._in_flight]
        self._in_flight.clear()
        with self._pending_lock:
            self._pending.clear()
        self._poisoned.clear()
        self.stats.retries += 1
        delay = min(_MAX_BACKOFF_S, 0.2 * 2 ** min(self.stats.retries, 6))
        log.warning("batch failed (%s); retrying in %.1fs, nothing committed", exc, delay)
        self._queue.extendleft(reversed(batches))
        self._backoff = time.monotonic() + delay

    def _wait_backoff(self) -> None:
        remaining = self._backoff - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def _written_batch(self, result: BatchResult, *, commit: bool = True) -> None:
        """Batch ``result`` is in Redis: count it, and commit it now or with later ones."""
        if result.merged == 0:
            return  # an earlier write carried this batch and counted it
        fault_point("after_write")
        for part, offset in result.commit.items():
            self._written[part] = max(offset, self._written.get(part, offset))
        self.stats.last_batch_wall = time.time()
        self.stats.records += result.records
        self.stats.scored += result.scored
        self.stats.invalid += result.invalid
        self.stats.batches += 1
        self.stats.coalesced += result.merged - 1
        self.stats.retries = 0
        if self.on_batch:
            self.on_batch(result)
        if commit:
            self._commit_written()

    def _commit_written(self, *, force: bool = False, blocking: bool = True) -> None:
        """Commit what is written: when forced, when nothing else is in the pipeline, or
        once ``commit_interval_s`` has passed since the last commit."""
        if not self._written:
            return
        now = time.monotonic()
        idle = not self._in_flight and not self._queue
        if not (force or idle or now - self._last_kafka_commit >= self.commit_interval_s):
            return
        assert self.source is not None
        self.source.commit(self._written, blocking=blocking)
        fault_point("after_commit")
        self._written = {}
        self._last_kafka_commit = self.stats.last_commit = time.monotonic()
        self.stats.cpu_last_commit = time.process_time()

    def _drain(self, source: Source) -> None:
        """On stop: close the open batch, apply everything queued, commit."""
        pending = self.batcher.flush()
        if pending:
            self._queue.append(pending)
        while self._in_flight or self._queue:
            self._finish_in_flight(block=True)
            if self._stop.is_set() and self.stats.retries > 3:
                log.error("giving up on %d queued batches (uncommitted)", len(self._queue))
                break
            self._submit_next()
            if not self._in_flight and self._queue:
                self._wait_backoff()
        self._commit_written(force=True)
