from consumers.microbatch import MicroBatcher
from consumers.records import SourceRecord
from sentimon.testing import ManualClock


def recs(n, partition=0, start=0):
    return [SourceRecord("news", partition, start + i, 0, b"{}") for i in range(n)]


def test_batch_closes_at_max_batch():
    batcher = MicroBatcher(4, 50, ManualClock())
    closed = batcher.add(recs(10))
    assert [len(b) for b in closed] == [4, 4]
    assert len(batcher) == 2


def test_batch_closes_after_max_wait_from_first_record():
    clock = ManualClock()
    batcher = MicroBatcher(64, 50, clock)
    assert batcher.time_left() is None
    batcher.add(recs(1))
    clock.now += 0.030
    batcher.add(recs(1, start=1))
    assert not batcher.due() and abs(batcher.time_left() - 0.020) < 1e-9
    assert batcher.take_due() is None
    clock.now += 0.021
    batch = batcher.take_due()
    assert batch is not None and [r.offset for r in batch] == [0, 1]
    assert batcher.time_left() is None


def test_wait_restarts_with_next_batch():
    clock = ManualClock()
    batcher = MicroBatcher(2, 50, clock)
    batcher.add(recs(3))
    clock.now += 0.049
    assert not batcher.due()
    clock.now += 0.002
    assert batcher.due()


def test_drop_removes_revoked_partitions_only():
    batcher = MicroBatcher(64, 50, ManualClock())
    batcher.add(recs(3, partition=0) + recs(2, partition=1))
    dropped = batcher.drop(lambda r: r.partition != 1)
    assert len(dropped) == 2 and len(batcher) == 3
    assert all(r.partition == 0 for r in batcher.flush())
