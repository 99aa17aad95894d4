"""merge_staged: several scored batches become one write that counts what the batches would."""

from __future__ import annotations

import pytest

from consumers.dlq import DeadLetter
from consumers.records import SourceRecord
from consumers.staged import BatchResult, PreparedBatch, StagedBatch, merge_staged
from sentimon.aggregate import ScoredPost
from sentimon.contract import Post


def record(topic: str, partition: int, offset: int) -> SourceRecord:
    return SourceRecord(topic, partition, offset, 1_000 + offset, b"{}")


def staged(
    topic: str, partition: int, offsets: range, post_ids: list[str], invalid: int = 0
) -> StagedBatch:
    """A scored batch: the first ``len(post_ids)`` records are posts, the next ``invalid``
    are dead letters."""
    records = [record(topic, partition, o) for o in offsets]
    posts = [
        (r, Post(pid, f"text {pid}", r.timestamp_ms, "news", "wire", ("AAPL",)))
        for r, pid in zip(records, post_ids, strict=False)
    ]
    letters = [DeadLetter(r, "not JSON") for r in records[len(post_ids) : len(post_ids) + invalid]]
    result = BatchResult(
        commit={(topic, partition): offsets[-1] + 1},
        records=len(records),
        timings={"score": 0.1},
        per_topic={topic: {"records": len(records), "scored": 0, "dlq": 0}},
        last_ts={(topic, partition): records[-1].timestamp_ms},
    )
    scored = [ScoredPost(post, "positive", 0.9, "m@1") for _, post in posts]
    return StagedBatch(records, result, PreparedBatch(records, posts, letters, []), scored)


def test_one_batch_is_returned_as_it_is():
    one = staged("news", 0, range(0, 3), ["a", "b", "c"])
    assert merge_staged([one]) is one


def test_an_empty_group_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        merge_staged([])


def test_offsets_counts_and_dead_letters_add_up_in_batch_order():
    group = [
        staged("news", 0, range(0, 4), ["a", "b", "c"], invalid=1),
        staged("news", 1, range(10, 13), ["d", "e", "f"]),
        staged("news", 0, range(4, 8), ["g", "h"], invalid=2),
    ]
    merged = merge_staged(group)
    assert [r.offset for r in merged.records] == [0, 1, 2, 3, 10, 11, 12, 4, 5, 6, 7]
    assert merged.result.commit == {("news", 0): 8, ("news", 1): 13}
    assert merged.result.records == 11 and merged.result.merged == 3
    assert merged.result.per_topic == {"news": {"records": 11, "scored": 0, "dlq": 0}}
    assert merged.result.last_ts == {("news", 0): 1_007, ("news", 1): 1_012}
    assert merged.result.timings == {"score": pytest.approx(0.3)}
    assert merged.prepared is not None
    assert [p.id for _, p in merged.prepared.posts] == list("abcdefgh")
    assert [s.post.id for s in merged.scored] == list("abcdefgh")
    assert [d.record.offset for d in merged.prepared.invalid] == [3, 6, 7]
    assert len(merged.prepared.records) == 11


def test_a_post_id_seen_in_an_earlier_batch_of_the_group_is_a_duplicate():
    # The sink de-duplicates against ids already in Redis, not within one write: written
    # apart, the second "b" would have been found by the sink; merged, the merge drops it.
    group = [
        staged("news", 0, range(0, 2), ["a", "b"]),
        staged("social", 0, range(0, 3), ["b", "c", "a"]),
    ]
    merged = merge_staged(group)
    assert merged.prepared is not None
    assert [p.id for _, p in merged.prepared.posts] == ["a", "b", "c"]
    assert [s.post.id for s in merged.scored] == ["a", "b", "c"]
    assert merged.prepared.duplicates == 2
    assert [r.topic for r in merged.prepared.repeats] == ["social", "social"]
    assert len(merged.prepared.records) == 5  # their offsets are still applied


def test_batches_with_nothing_left_to_apply_merge_as_skipped():
    done = staged("news", 0, range(0, 3), [])
    done = StagedBatch(
        done.records, BatchResult(commit={("news", 0): 3}, records=3, skipped=3), None, []
    )
    later = staged("news", 0, range(3, 5), ["x", "y"])
    merged = merge_staged([done, later])
    assert merged.result.commit == {("news", 0): 5} and merged.result.records == 5
    assert merged.prepared is not None and len(merged.prepared.records) == 2
    only_done = merge_staged([done, done])
    assert only_done.prepared is None and only_done.result.skipped == 6
