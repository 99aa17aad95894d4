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

Redis trouble never ends the loop: a failed write is retried with capped backoff, and
after a timeout, a lost connection or a BUSY/LOADING reply the next write first waits
until Redis answers ``PING`` (a script is not re-sent into a Redis still running the
last one). ``RedisState`` logs it once per change and feeds ``/healthz``. A stop drains
for at most ``shutdown_grace_s``: what is not written by then stays uncommitted, for the
next member (the fences make the re-read safe).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from consumers.faults import fault_point
from consumers.microbatch import MicroBatcher
from consumers.pipeline import BatchProcessor
from consumers.records import SourceRecord
from consumers.staged import BatchResult, StagedBatch, merge_staged
from inference.scorer import concurrency_of
from sentimon.errors import SentimonError, SinkError
from sentimon.store.client import (
    RedisState,
    is_transient,
    needs_ping,
    redis_error_of,
    wait_until_redis_answers,
)

log = logging.getLogger(__name__)

_IDLE_POLL_S = 0.1
_BUSY_POLL_S = 0.02
#: With the pipeline full and a batch queued there is nothing to poll for: wait for the
#: oldest batch instead (kafka-python heartbeats on its own thread), at most this long.
_FULL_WAIT_S = 0.25
_MAX_BACKOFF_S = 10.0
#: Of the shutdown grace period, what is kept for leaving the group (at most).
_LEAVE_S = 5.0
#: Under a backlog, how long the writer waits for the next batch's scoring to merge it
#: into the write it is assembling (a CPU batch of 64 scores in 0.1-0.3 s).
_HOLD_S = 0.5


class Source(Protocol):
    def poll(self, timeout_s: float) -> list[SourceRecord]: ...
    def commit(
        self,
        offsets: dict[tuple[str, int], int],
        *,
        blocking: bool = True,
        timeout_s: float | None = None,
    ) -> None: ...
    def rewind(self, offsets: dict[tuple[str, int], int]) -> None: ...
    def pause_all(self) -> None: ...
    def resume_all(self) -> None: ...
    def assignment(self) -> list[tuple[str, int]]: ...
    def caught_up(self) -> bool: ...
    def close(self, timeout_s: float = 5.0) -> None: ...


class _NotSentError(SinkError):
    """A write held back until Redis answers was given up (stop or revoke): not sent."""


class _PhaseError(SinkError):
    """A batch's scoring or write failed (the error is the cause); ``began``: when that
    phase started, so a failure from before Redis answered again is not a new outage."""

    def __init__(self, error: SentimonError, began: float) -> None:
        super().__init__(str(error))
        self.began = began


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
    #: When it was submitted for scoring (``time.monotonic()``).
    submitted: float = field(default_factory=time.monotonic)


def in_flight_bound(scorers: int, coalesce: int) -> int:
    """How many batches a loop keeps submitted and not yet written: up to ``coalesce``
    written as one, the next ``coalesce`` staged behind them, and ``scorers`` more being
    scored. A writer that finishes a write finds its next group already scored instead of
    waiting for the loop to submit and score it."""
    return scorers + 2 * coalesce


class ConsumeLoop:
    """Runs until stopped (``stop()``, which ``consumers.service`` calls once its stop
    event is set) or, with ``until_idle_s``, until idle that long once its partitions are
    caught up."""

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
        shutdown_grace_s: float = 30.0,
        assignment_wait_s: float = 120.0,
        redis_state: RedisState | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.processor = processor
        self.batcher = MicroBatcher(max_batch, max_wait_ms)
        self.until_idle_s = until_idle_s
        self.on_batch = on_batch
        self.on_tick = on_tick
        self.on_stopping = on_stopping
        self.stats = LoopStats()
        self.commit_interval_s = commit_interval_s
        self.shutdown_grace_s = shutdown_grace_s
        self.assignment_wait_s = assignment_wait_s
        #: Whether Redis answers, as the writes see it (shared with start-up and /healthz).
        self.redis = redis_state or RedisState()
        # The idle clock (``until_idle_s``, ``assignment_wait_s``); tests pass a fake one.
        self._clock = clock
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
        # Set after a failure that left Redis unreachable, busy or loading: the next write
        # first waits until Redis answers PING (on the writer thread: the loop polls on).
        self._ping_first = threading.Event()
        # Set to give up that wait: during a revoke (the callback must not block on it)
        # and once a stop's grace period is over.
        self._abandon = threading.Event()
        self._stop = threading.Event()
        self._deadline: float | None = None  # time.monotonic() by which a stop is done
        self._started = self._last_record = clock()
        self._was_assigned = False
        self._ready_since: float | None = None  # assigned and caught up since (idle clock)
        self._backoff = 0.0

    # --- control -----------------------------------------------------------------------
    def stop(self, *_: Any) -> None:
        """Ask the loop to finish (safe from any thread): it drains what it holds
        for at most ``shutdown_grace_s`` from the first call, commits what is written
        and leaves the group."""
        if not self._stop.is_set():
            self._deadline = time.monotonic() + self.shutdown_grace_s
            log.info(
                "stopping: finishing the batches in flight (at most %.0fs), then leaving the group",
                self.shutdown_grace_s,
            )
        self._stop.set()

    # --- rebalance callbacks (called inside poll, on the loop thread) ------------------
    def on_assigned(self, partitions: list[tuple[str, int]]) -> None:
        if partitions:
            self._was_assigned = True
        log.info("assigned %d partitions: %s", len(partitions), partitions)

    def on_revoked(self, partitions: list[tuple[str, int]]) -> None:
        """Finish the in-flight batch (we still own its partitions) and commit it; drop
        queued and buffered records of revoked partitions uncommitted, and rewind those
        partitions to the first dropped record. A partition that moves away is re-read by
        its next owner from the committed offset; one that comes back to this member
        keeps its fetch position (kafka-python keeps the state of a partition that is in
        both assignments), so without the rewind its dropped records would never be read
        again. Either way the fence skips whatever was already applied. A write held
        back until Redis answers is given up at once (this runs on kafka-python's I/O
        thread, which must not wait on an outage)."""
        if not partitions:
            return
        revoked = set(partitions)
        abandoned = self._abandon.is_set()
        self._abandon.set()
        try:
            self._finish_in_flight(block=True, in_callback=True)
        finally:
            if not abandoned:
                self._abandon.clear()
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
        """Poll, process and commit until stopped or idle; then drain within the grace
        period, leave the group and return 0. Never waits on a stuck worker thread."""
        self.source = source
        deadline: float | None = None
        try:
            while not self._stop.is_set():
                self._step(source)
                if self._idle_expired(source):
                    break
            deadline = self._deadline or time.monotonic() + self.shutdown_grace_s
            leave_s = min(_LEAVE_S, self.shutdown_grace_s / 4)
            self._drain(source, deadline - leave_s)
            if self.on_stopping and time.monotonic() < deadline - leave_s:
                self.on_stopping()
        finally:
            self._abandon.set()  # a write still waiting for Redis gives up
            self._scorer.shutdown(wait=False, cancel_futures=True)
            self._writer.shutdown(wait=False, cancel_futures=True)
            self._in_flight.clear()  # (after an error) nothing for the revoke on close
            left = _LEAVE_S if deadline is None else deadline - time.monotonic()
            source.close(timeout_s=max(0.5, min(_LEAVE_S, left)))
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
            self._last_record = self._clock()
            if self.stats.first_poll is None:
                self.stats.first_poll = time.monotonic()
                self.stats.cpu_first_poll = time.process_time()
            self._queue.extend(self.batcher.add(records))
        due = self.batcher.take_due()
        if due:
            self._queue.append(due)
        if self.on_tick:
            self.on_tick()

    # --- --until-idle --------------------------------------------------------------------
    def _idle_expired(self, source: Source) -> bool:
        """``until_idle_s`` without records, counted from when the member is assigned
        partitions and caught up to their high-water marks (a member still joining, or
        reading a backlog, is not idle); a member never assigned any gives up after
        ``assignment_wait_s``."""
        if self.until_idle_s is None or self._in_flight or self._queue or len(self.batcher):
            return False
        now = self._clock()
        since = self._idle_since(source, now)
        if since is None:
            if not self._was_assigned and now - self._started >= self.assignment_wait_s:
                log.warning(
                    "no partitions assigned within %.0fs: exiting without consuming anything "
                    "(another member of the group may hold every partition)",
                    self.assignment_wait_s,
                )
                return True
            return False
        if now - max(self._last_record, since) < self.until_idle_s:
            return False
        log.info("idle for %.1fs: exiting", self.until_idle_s)
        return True

    def _idle_since(self, source: Source, now: float) -> float | None:
        """When the idle clock started: when the member was first seen assigned and
        caught up (again); None while it is not. A member that held partitions and lost
        them all is idle (a rebalance handed them to others)."""
        assigned = source.assignment()
        if assigned:
            self._was_assigned = True
        ready = source.caught_up() if assigned else self._was_assigned
        if not ready:
            self._ready_since = None
        elif self._ready_since is None:
            self._ready_since = now
            if assigned:
                log.info("caught up on %d partitions", len(assigned))
        return self._ready_since

    # --- processing ----------------------------------------------------------------------
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
            try:
                group = [pending.staged.result()]
            except SentimonError as exc:
                raise _PhaseError(exc, pending.submitted) from exc
            group += [p.staged.result() for p in self._take_followers(pending.backlog)]
            self._wait_for_redis()
            began = time.monotonic()
            try:
                return self.processor.write_phase(merge_staged(group))
            except SentimonError as exc:
                raise _PhaseError(exc, began) from exc
        except BaseException:
            self._poisoned.set()
            raise

    def _wait_for_redis(self) -> None:
        """After Redis was unreachable, busy or loading, send nothing until it answers
        PING again (writer thread; given up on a revoke or at the end of a stop)."""
        if not self._ping_first.is_set():
            return
        if not wait_until_redis_answers(self.processor.sink.client, self._abandon):
            raise _NotSentError("Redis did not answer PING: write not sent")
        self._ping_first.clear()

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
        """Count finished batches in order and commit them (with ``block``, wait for
        each). A failure requeues them all; they are resubmitted after the backoff by a
        later step, never here. ``in_callback``: inside a rebalance callback, which
        kafka-python runs on its I/O thread, where a blocking commit raises and a sleep
        stalls heartbeats: nothing is committed here (the caller sends the commit
        without waiting), and a failed write is left to the revoke to drop and rewind."""
        while self._in_flight:
            _, future = self._in_flight[0]
            if not block and not future.done():
                return
            try:
                result = future.result()
            except SentimonError as exc:
                self._retry_later(exc)
                return
            self._in_flight.popleft()
            self._backoff = 0.0
            self._written_batch(result, commit=not in_callback)

    def _retry_later(self, exc: Exception) -> None:
        """Requeue every in-flight batch, in order, after the failed one finished. A
        failure caused by Redis goes to ``self.redis`` (one WARNING per outage); after a
        timeout, a lost connection or BUSY/LOADING the next write waits for PING."""
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
        cause = redis_error_of(exc)
        if isinstance(exc, _NotSentError):
            log.debug("write held back (Redis not answering); retrying in %.1fs", delay)
        elif cause is not None and is_transient(cause):
            if needs_ping(cause):
                self._ping_first.set()
            self.redis.failed(
                cause,
                action=f"retrying with backoff up to {_MAX_BACKOFF_S:g}s, nothing committed",
                began=exc.began if isinstance(exc, _PhaseError) else None,
            )
            log.debug("batch failed (%s); retrying in %.1fs, nothing committed", exc, delay)
        else:
            log.warning("batch failed (%s); retrying in %.1fs, nothing committed", exc, delay)
        self._queue.extendleft(reversed(batches))
        self._backoff = time.monotonic() + delay

    def _wait_backoff(self, until: float | None = None) -> None:
        """Sleep out the retry backoff, at most to ``until`` (the drain's deadline)."""
        end = self._backoff if until is None else min(self._backoff, until)
        remaining = end - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)

    def _written_batch(self, result: BatchResult, *, commit: bool = True) -> None:
        """Batch ``result`` is in Redis: count it, and commit it now or with later ones."""
        if result.merged == 0:
            return  # an earlier write carried this batch and counted it
        fault_point("after_write")
        self.redis.recovered()
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

    def _commit_written(
        self, *, force: bool = False, blocking: bool = True, timeout_s: float | None = None
    ) -> None:
        """Commit what is written: when forced, when nothing else is in the pipeline, or
        once ``commit_interval_s`` has passed since the last commit."""
        if not self._written:
            return
        now = time.monotonic()
        idle = not self._in_flight and not self._queue
        if not (force or idle or now - self._last_kafka_commit >= self.commit_interval_s):
            return
        assert self.source is not None
        self.source.commit(self._written, blocking=blocking, timeout_s=timeout_s)
        fault_point("after_commit")
        self._written = {}
        self._last_kafka_commit = self.stats.last_commit = time.monotonic()
        self.stats.cpu_last_commit = time.process_time()

    # --- stopping --------------------------------------------------------------------------
    def _drain(self, source: Source, deadline: float) -> None:
        """On stop: close the open batch and apply everything queued, retrying failed
        writes, until ``deadline`` (``time.monotonic()``); then give up on the rest
        (uncommitted: the next member reads it again) and commit what was written."""
        pending = self.batcher.flush()
        if pending:
            self._queue.append(pending)
        while self._in_flight or self._queue:
            if not self._finish_until(deadline):
                break
            self._submit_next()
            if not self._in_flight and self._queue:
                self._wait_backoff(until=deadline)
                if time.monotonic() >= deadline:
                    break
        if self._in_flight or self._queue:
            self._give_up()
        self._commit_written(force=True, timeout_s=max(0.5, deadline - time.monotonic()))

    def _finish_until(self, deadline: float) -> bool:
        """Count finished batches in order, waiting for each at most until ``deadline``;
        a failure requeues them all (with backoff). False once the deadline passed."""
        while self._in_flight:
            _, future = self._in_flight[0]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not wait([future], timeout=remaining).done:
                return False
            try:
                result = future.result()
            except SentimonError as exc:
                self._retry_later(exc)
                return True
            self._in_flight.popleft()
            self._backoff = 0.0
            self._written_batch(result, commit=False)
        return True

    def _give_up(self) -> None:
        """The grace period is over: stop waiting for Redis, keep the batches that did
        get written (in order), and log what stays uncommitted."""
        self._abandon.set()
        while self._in_flight:
            _, future = self._in_flight[0]
            if not future.done() or future.exception() is not None:
                break
            self._in_flight.popleft()
            self._written_batch(future.result(), commit=False)
        left = [batch for batch, _ in self._in_flight] + list(self._queue)
        log.error(
            "shutdown grace period (%.0fs) over: giving up on %d batches (%d records), left "
            "uncommitted for the next member of the group (%s)",
            self.shutdown_grace_s,
            len(left),
            sum(len(batch) for batch in left),
            "Redis unavailable" if not self.redis.ok else "still in flight",
        )
        self._in_flight.clear()
        self._queue.clear()
