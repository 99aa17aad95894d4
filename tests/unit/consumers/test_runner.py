"""ConsumeLoop with several batches scored at once: writes and commits stay in batch order,
and under a backlog several scored batches share one write."""

from __future__ import annotations

import time

from consumers.records import SourceRecord
from consumers.runner import ConsumeLoop
from sentimon.testing import MemorySource, RecordingProcessor, uneven_scoring


def uneven_processor(concurrency: int, fail_writes: int = 0) -> RecordingProcessor:
    """Scores unevenly (later batches often finish scoring first)."""
    return RecordingProcessor(concurrency, fail_writes, score_s=uneven_scoring)


def records(n: int) -> list[SourceRecord]:
    return [SourceRecord("news", 0, i, 0, b"{}") for i in range(n)]


def run(
    processor: RecordingProcessor,
    n: int,
    source: MemorySource | None = None,
    interval_s: float = 0.0,
    coalesce: int = 1,
) -> MemorySource:
    source = source or MemorySource(records(n))
    loop = ConsumeLoop(
        processor,  # type: ignore[arg-type]
        max_batch=10,
        max_wait_ms=5,
        until_idle_s=0.3,
        commit_interval_s=interval_s,
        coalesce=coalesce,
    )
    assert loop.max_in_flight == processor.scorer.concurrency + 2 * coalesce
    loop.run(source)
    source.stats = loop.stats  # type: ignore[attr-defined]
    return source


def test_two_scorers_overlap_but_writes_and_commits_keep_batch_order():
    processor = uneven_processor(2)
    source = run(processor, 200)
    assert processor.most_at_once == 2
    assert processor.written == list(range(0, 200, 10))
    ends = [c[("news", 0)] for c in source.commits]
    assert ends == list(range(10, 201, 10))


def test_one_scorer_never_scores_two_batches_at_once():
    processor = uneven_processor(1)
    source = run(processor, 60)
    assert processor.most_at_once == 1
    assert [c[("news", 0)] for c in source.commits] == [10, 20, 30, 40, 50, 60]


def test_failed_write_retries_everything_in_flight_in_order():
    processor = uneven_processor(2, fail_writes=1)
    source = run(processor, 80)
    assert processor.written == list(range(0, 80, 10))
    assert [c[("news", 0)] for c in source.commits] == list(range(10, 81, 10))


def test_full_pipeline_pauses_the_source():
    processor = uneven_processor(2)
    source = run(processor, 200)
    assert source.pauses >= 1


class WatchedSource(MemorySource):
    """Records, at each commit, the end of the last batch written so far."""

    def __init__(self, processor: RecordingProcessor, n: int, every_s: float = 0.0) -> None:
        super().__init__(records(n))
        self.processor = processor
        self.every_s = every_s
        self.next_at = 0.0
        self.written_at_commit: list[int] = []

    def poll(self, timeout_s: float) -> list[SourceRecord]:
        if time.monotonic() < self.next_at:
            time.sleep(min(timeout_s, 0.01))
            return []
        self.next_at = time.monotonic() + self.every_s
        return super().poll(timeout_s)

    def commit(
        self,
        offsets: dict[tuple[str, int], int],
        *,
        blocking: bool = True,
        timeout_s: float | None = None,
    ) -> None:
        self.written_at_commit.append(self.processor.written[-1] + 10)
        super().commit(offsets, blocking=blocking)


def test_under_load_one_commit_covers_the_batches_written_since_the_last():
    processor = uneven_processor(2)
    source = run(processor, 200, WatchedSource(processor, 200), interval_s=10.0)
    assert processor.written == list(range(0, 200, 10))
    ends = [c[("news", 0)] for c in source.commits]
    assert len(ends) < 20, ends  # fewer commits than batches
    assert ends == sorted(set(ends)) and ends[-1] == 200
    # never ahead of the Redis write
    assert all(end <= w for end, w in zip(ends, source.written_at_commit, strict=True))


def test_a_batch_is_committed_at_once_when_nothing_else_is_in_the_pipeline():
    processor = uneven_processor(2)
    source = WatchedSource(processor, 60, every_s=0.1)  # a trickle: one batch at a time
    run(processor, 60, source, interval_s=10.0)
    assert [c[("news", 0)] for c in source.commits] == [10, 20, 30, 40, 50, 60]


def stepped_loop(batches_written: int) -> tuple[ConsumeLoop, RecordingProcessor, MemorySource]:
    """A loop stepped by hand until ``batches_written`` batches are in "Redis"."""
    processor = uneven_processor(2)
    source = MemorySource(records(200))
    loop = ConsumeLoop(processor, max_batch=10, max_wait_ms=5, commit_interval_s=10.0)  # type: ignore[arg-type]
    loop.source = source
    while len(processor.written) < batches_written:
        loop._step(source)
    return loop, processor, source


def test_revoking_partitions_commits_what_is_written():
    loop, processor, source = stepped_loop(5)
    source.resume_all()
    loop._queue.extend(loop.batcher.add(source.poll(0)))  # polled, queued, not in flight
    loop.on_revoked([("news", 0)])
    assert source.commits[-1][("news", 0)] == processor.written[-1] + 10
    # the callback runs on kafka-python's I/O thread: no blocking commit from there
    assert source.blocking[-1] is False
    # what was polled but not written is dropped, and the partition rewound to it (a
    # partition that comes back keeps its fetch position in kafka-python)
    assert source.rewinds == [{("news", 0): processor.written[-1] + 10}]
    loop.stop()
    loop.run(source)


def test_a_write_failing_during_a_revoke_is_not_retried_inside_the_callback():
    loop, processor, source = stepped_loop(2)
    while not loop._in_flight:
        loop._step(source)
    backoffs: list[float] = []
    loop._wait_backoff = lambda: backoffs.append(loop._backoff)  # type: ignore[method-assign]
    processor.fail_writes = 1
    loop.on_revoked([("news", 0)])
    assert backoffs == []  # no sleep on kafka-python's I/O thread
    assert not loop._in_flight and not loop._queue  # requeued, then dropped as revoked
    assert source.rewinds and source.rewinds[-1][("news", 0)] == processor.written[-1] + 10


def test_under_a_backlog_scored_batches_share_one_write_in_order():
    processor = uneven_processor(2)
    source = MemorySource(records(400), chunk=50)  # each poll queues five batches
    run(processor, 400, source, coalesce=4)
    writes = processor.writes
    assert len(writes) < 40, writes  # fewer writes than batches
    assert max(len(w) for w in writes) == 40  # four batches of 10 at most
    assert [o for w in writes for o in w] == list(range(400))  # each once, in order
    ends = [c[("news", 0)] for c in source.commits]
    assert ends == sorted(set(ends)) and ends[-1] == 400
    assert set(ends) <= {w[-1] + 1 for w in writes}  # commits only what a write covered
    stats = source.stats  # type: ignore[attr-defined]
    assert stats.records == 400 and stats.batches == len(writes)
    assert stats.batches + stats.coalesced == 40


def test_without_a_backlog_each_batch_is_written_as_soon_as_it_is_scored():
    processor = uneven_processor(2)
    source = WatchedSource(processor, 60, every_s=0.1)  # a trickle: one batch at a time
    run(processor, 60, source, coalesce=4)
    assert processor.writes == [list(range(i, i + 10)) for i in range(0, 60, 10)]


def test_a_failed_merged_write_is_retried_in_order_and_counted_once():
    processor = uneven_processor(2, fail_writes=2)
    source = MemorySource(records(300), chunk=50)
    run(processor, 300, source, coalesce=3)
    assert [o for w in processor.writes for o in w] == list(range(300))
    assert max(len(w) for w in processor.writes) <= 30
    ends = [c[("news", 0)] for c in source.commits]
    assert ends == sorted(set(ends)) and ends[-1] == 300
    assert source.stats.records == 300  # type: ignore[attr-defined]
