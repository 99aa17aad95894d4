"""ConsumeLoop under Redis trouble and at shutdown: one WARNING per outage, PING before a
re-send, a drain bounded by the grace period that commits only what was written, and
``--until-idle`` counted from assignment and catch-up (fake clock)."""

from __future__ import annotations

import logging
import time

import redis
from redis.exceptions import ResponseError

from consumers.records import SourceRecord
from consumers.runner import ConsumeLoop
from consumers.staged import BatchResult, StagedBatch
from sentimon.errors import SinkError
from sentimon.testing import ManualClock, MemorySource, RecordingProcessor, uneven_scoring

BUSY = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT."


def records(n: int) -> list[SourceRecord]:
    return [SourceRecord("news", 0, i, 0, b"{}") for i in range(n)]


class RedisProcessor(RecordingProcessor):
    """Writes fail like the sink's do (a ``SinkError`` from a Redis error) while ``down``
    is set, or for the next ``failures`` writes; PING fails while ``client.error`` is set."""

    def __init__(self, concurrency: int = 2) -> None:
        super().__init__(concurrency, score_s=uneven_scoring)
        self.down: Exception | None = None
        self.failures: list[Exception] = []
        self.attempts = 0

    def write_phase(self, staged: StagedBatch) -> BatchResult:
        self.attempts += 1
        error = self.down or (self.failures.pop(0) if self.failures else None)
        if error is not None:
            try:
                raise error
            except redis.RedisError as exc:
                raise SinkError(f"Redis write failed (test): {exc}") from exc
        return super().write_phase(staged)


def loop_for(processor: RecordingProcessor, **kwargs: object) -> ConsumeLoop:
    options: dict[str, object] = {"max_batch": 10, "max_wait_ms": 5, "commit_interval_s": 10.0}
    options.update(kwargs)
    return ConsumeLoop(processor, **options)  # type: ignore[arg-type]


def step_until(loop: ConsumeLoop, source: MemorySource, done, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "condition not reached"
        loop._step(source)


# --- logging once per state change ---------------------------------------------------------
def test_consecutive_redis_failures_log_one_warning_and_the_recovery_one_info(caplog) -> None:
    processor = RedisProcessor()
    processor.failures = [redis.ConnectionError("Connection refused")] * 2
    source = MemorySource(records(60))
    loop = loop_for(processor, until_idle_s=0.3, commit_interval_s=0.0)
    with caplog.at_level(logging.INFO):
        assert loop.run(source) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == [
        "Redis unavailable (ConnectionError: Connection refused): retrying with backoff up "
        "to 10s, nothing committed"
    ]
    recovered = [m for m in caplog.messages if m.startswith("Redis available again")]
    assert len(recovered) == 1 and "and 2 retries" in recovered[0], recovered
    assert processor.client.pings >= 1  # the re-send waited for PING
    assert processor.written == list(range(0, 60, 10))
    assert source.commits[-1][("news", 0)] == 60
    assert loop.redis.ok and loop.redis.last is not None


def test_a_failure_that_is_not_redis_trouble_still_warns_each_time(caplog) -> None:
    processor = RecordingProcessor(concurrency=1, fail_writes=2, score_s=uneven_scoring)
    loop = loop_for(processor, until_idle_s=0.3)
    with caplog.at_level(logging.WARNING):
        loop.run(MemorySource(records(20)))
    assert sum("batch failed" in m for m in caplog.messages) == 2
    assert loop.redis.ok and loop.redis.last is None


def test_after_busy_the_write_waits_for_ping_instead_of_being_resent() -> None:
    processor = RedisProcessor(concurrency=1)
    source = MemorySource(records(10))
    loop = loop_for(processor)
    loop.source = source
    processor.failures = [ResponseError(BUSY)]
    processor.client.error = ResponseError(BUSY)  # PING answers BUSY too while it runs
    step_until(loop, source, lambda: processor.attempts == 1 and not loop._in_flight)
    assert not loop.redis.ok
    loop._backoff = 0.0  # skip the retry delay: the PING wait is what holds the write
    step_until(loop, source, lambda: processor.client.pings >= 3)
    assert processor.attempts == 1  # not re-sent while PING says BUSY
    processor.client.error = None
    step_until(loop, source, lambda: loop.stats.batches == 1)  # written and counted
    assert processor.attempts == 2 and processor.written == [0] and loop.redis.ok
    loop.stop()
    loop.run(source)


# --- bounded shutdown ----------------------------------------------------------------------
def test_drain_gives_up_at_the_deadline_and_commits_only_what_was_written(caplog) -> None:
    processor = RedisProcessor()
    source = MemorySource(records(200))
    loop = loop_for(processor, shutdown_grace_s=2.0)
    loop.source = source
    step_until(loop, source, lambda: len(processor.written) >= 3)
    processor.down = redis.ConnectionError("Connection refused")
    processor.client.error = redis.ConnectionError("Connection refused")
    step_until(loop, source, lambda: not loop.redis.ok)
    written_end = processor.written[-1] + 10
    loop.stop()
    started = time.monotonic()
    with caplog.at_level(logging.ERROR):
        assert loop.run(source) == 0
    took = time.monotonic() - started
    assert took < 2.0 + 0.3, took
    assert processor.written[-1] + 10 == written_end  # nothing more got through
    assert source.commits, "what was written is committed"
    assert max(c[("news", 0)] for c in source.commits) == written_end
    errors = [m for m in caplog.messages if "grace period" in m]
    assert len(errors) == 1 and "left uncommitted" in errors[0], caplog.messages
    assert "Redis unavailable" in errors[0]
    assert source.closed_with > 0  # type: ignore[attr-defined]


def test_a_write_waiting_for_ping_ends_when_the_drain_gives_up() -> None:
    processor = RedisProcessor(concurrency=1)
    source = MemorySource(records(30))
    loop = loop_for(processor, shutdown_grace_s=1.0)
    loop.source = source
    processor.failures = [redis.TimeoutError("Timeout reading from socket")]
    processor.client.error = ResponseError(BUSY)
    step_until(loop, source, lambda: processor.client.pings >= 1)  # the writer waits
    loop.stop()
    started = time.monotonic()
    loop.run(source)
    assert time.monotonic() - started < 1.3
    threads = list(loop._writer._threads)  # type: ignore[attr-defined]
    for thread in threads:
        thread.join(timeout=2.0)
    assert not any(t.is_alive() for t in threads)
    assert processor.written == [] and not any(source.commits)


def test_a_revoke_does_not_wait_for_redis_to_answer() -> None:
    processor = RedisProcessor(concurrency=1)
    source = MemorySource(records(30))
    loop = loop_for(processor)
    loop.source = source
    processor.failures = [redis.ConnectionError("Connection refused")]
    processor.client.error = redis.ConnectionError("Connection refused")
    step_until(loop, source, lambda: processor.attempts == 1 and not loop._in_flight)
    loop._backoff = 0.0
    step_until(loop, source, lambda: processor.client.pings >= 2)  # a write waits for PING
    started = time.monotonic()
    loop.on_revoked([("news", 0)])
    assert time.monotonic() - started < 0.5
    assert not loop._in_flight and not loop._queue
    assert source.rewinds and source.rewinds[-1] == {("news", 0): 0}
    assert not loop._abandon.is_set()  # later writes may wait for Redis again
    loop.stop()
    loop.run(source)


# --- --until-idle ----------------------------------------------------------------------------
class GroupSource(MemorySource):
    def __init__(self) -> None:
        super().__init__([])
        self.assigned: list[tuple[str, int]] = []
        self.at_end = False

    def assignment(self) -> list[tuple[str, int]]:
        return list(self.assigned)

    def caught_up(self) -> bool:
        return bool(self.assigned) and self.at_end


def idle_loop(clock: ManualClock) -> ConsumeLoop:
    return loop_for(
        RecordingProcessor(concurrency=1, score_s=uneven_scoring),
        until_idle_s=5.0,
        assignment_wait_s=60.0,
        clock=clock,
    )


def test_idle_does_not_expire_before_assignment() -> None:
    clock, source = ManualClock(), GroupSource()
    loop = idle_loop(clock)
    clock.now += 30
    assert not loop._idle_expired(source)  # 30 s idle, but nothing assigned yet
    source.assigned, source.at_end = [("news", 0)], True
    assert not loop._idle_expired(source)  # the idle clock starts now
    clock.now += 4.9
    assert not loop._idle_expired(source)
    clock.now += 0.2
    assert loop._idle_expired(source)


def test_idle_counts_only_after_catching_up() -> None:
    clock, source = ManualClock(), GroupSource()
    loop = idle_loop(clock)
    source.assigned = [("news", 0), ("news", 1)]
    for _ in range(10):  # assigned, but behind the high-water mark (or never fetched)
        clock.now += 100
        assert not loop._idle_expired(source)
    source.at_end = True
    assert not loop._idle_expired(source)
    clock.now += 5
    assert loop._idle_expired(source)


def test_new_records_restart_the_idle_clock() -> None:
    clock, source = ManualClock(), GroupSource()
    loop = idle_loop(clock)
    source.assigned, source.at_end = [("news", 0)], True
    assert not loop._idle_expired(source)
    clock.now += 4
    loop._last_record = clock.now
    clock.now += 4
    assert not loop._idle_expired(source)
    clock.now += 1
    assert loop._idle_expired(source)


def test_a_member_never_assigned_gives_up_after_the_assignment_wait(caplog) -> None:
    clock, source = ManualClock(), GroupSource()
    loop = idle_loop(clock)
    clock.now += 59
    assert not loop._idle_expired(source)
    clock.now += 1
    with caplog.at_level(logging.WARNING):
        assert loop._idle_expired(source)
    assert "no partitions assigned within 60s" in caplog.text
    assert "another member of the group may hold every partition" in caplog.text


def test_a_member_that_lost_its_partitions_is_idle() -> None:
    clock, source = ManualClock(), GroupSource()
    loop = idle_loop(clock)
    source.assigned = [("news", 0)]
    assert not loop._idle_expired(source)
    source.assigned = []  # a rebalance gave them to another member
    assert not loop._idle_expired(source)
    clock.now += 5
    assert loop._idle_expired(source)


def test_until_idle_run_exits_after_catching_up() -> None:
    processor = RecordingProcessor(concurrency=2, score_s=uneven_scoring)
    source = MemorySource(records(50))
    loop = loop_for(processor, until_idle_s=0.2)
    started = time.monotonic()
    assert loop.run(source) == 0
    assert time.monotonic() - started < 5
    assert processor.written == list(range(0, 50, 10))


def test_retry_delays_grow_and_are_capped() -> None:
    loop = loop_for(RecordingProcessor(concurrency=1, score_s=uneven_scoring))
    delays = []
    for _ in range(8):
        loop._retry_later(SinkError("down (test)"))
        delays.append(round(loop._backoff - time.monotonic(), 1))
    assert delays == sorted(delays) and delays[0] < 1.0 and max(delays) == 10.0, delays
