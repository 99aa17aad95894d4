"""The reset detector in isolation (in-process, real Redis): when a fence moves back."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from consumers.dlq import CollectingDeadLetters
from consumers.pipeline import BatchProcessor
from consumers.records import SourceRecord
from consumers.wiring import build_processor
from sentimon.store.query import Query
from sentimon.testing import HashScorer
from tests.integration.feeds import T0

pytestmark = pytest.mark.integration


def _processor(stack: Any) -> tuple[BatchProcessor, Query]:
    settings = stack.settings(namespace=f"t-{uuid.uuid4().hex[:8]}", topics=["n"])
    proc = build_processor(settings, HashScorer(), dead_letters=CollectingDeadLetters(), hooks=[])
    return proc, Query(proc.sink.client, settings.namespace)


def _records(first: int, n: int, log_end: int | None, tag: str) -> list[SourceRecord]:
    body = lambda i: json.dumps({"id": f"{tag}-{i}", "text": "plain", "ts": T0})  # noqa: E731
    return [
        SourceRecord("n", 0, first + i, T0, body(i).encode(), log_end=log_end) for i in range(n)
    ]


def test_redelivery_below_the_fence_is_skipped_not_taken_for_a_reset(stack) -> None:
    """Injects: records 0-9 applied, then 0-9 again from a log that still holds them (log
    end 10, as after a crash between write and commit). Asserts: skipped, no reset."""
    proc, q = _processor(stack)
    proc.process(_records(0, 10, 10, "a"))
    again = proc.process(_records(0, 10, 10, "a"))
    assert again.skipped == 10 and q.counters()["records"] == 10
    assert "offset_resets" not in q.counters() and q.applied_offsets() == {"n:0": 9}


def test_a_log_shorter_than_the_fence_resets_it_and_new_records_count(stack) -> None:
    """Injects: fence at 49, then records 0-4 of a log that ends at 5 (the broker lost the
    partition). Asserts: one reset counted, the 5 new posts applied, fence at 4; a post id
    seen before the reset is still de-duplicated."""
    proc, q = _processor(stack)
    proc.process(_records(0, 50, 50, "old"))
    fresh = _records(0, 4, 5, "new") + _records(4, 1, 5, "old")  # last one: an old id again
    result = proc.process(fresh)
    assert result.scored == 4 and result.duplicates == 1
    assert q.counters()["offset_resets"] == 1 and q.counters()["records"] == 55
    assert q.applied_offsets() == {"n:0": 4}


def test_a_fence_moved_by_another_writer_is_not_reset(stack) -> None:
    """Injects: our cached fence is 49, another writer has since stored 60, and a batch
    claims a log end of 5. Asserts: the compare-and-set refuses, nothing is applied."""
    proc, q = _processor(stack)
    proc.process(_records(0, 50, 50, "x"))
    proc.sink.client.hset(proc.keys.offsets, "n:0", 60)
    result = proc.process(_records(0, 5, 5, "y"))
    assert result.skipped == 5 and "offset_resets" not in q.counters()
    assert q.applied_offsets() == {"n:0": 60}
