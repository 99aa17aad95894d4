"""Several scored batches written as one (real Redis, the real alert hook) leave Redis as
writing them one by one does: the same aggregates, counters, offsets, dead letters and
recent posts, with a post id repeated across the merged batches counted once."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from consumers.dlq import CollectingDeadLetters
from consumers.records import SourceRecord
from consumers.staged import merge_staged
from consumers.wiring import build_processor
from sentimon.testing import HashScorer
from tests.integration.feeds import T0

pytestmark = pytest.mark.integration

_TICKERS = ["ACME", "BETA", "GAMMA"]


def _post_id(i: int) -> str:
    # Ids repeat within a merged group (p-0..p-4 at i = 25-29, q-* at i = 55-59) and
    # across groups (p-5..p-24 at i = 30-49), where the sink's seen keys catch them.
    return f"p-{i % 25}" if i < 50 else f"q-{i % 5}"


def _body(i: int) -> bytes:
    if i % 13 == 5:
        return b"{not json"
    text = f"${_TICKERS[i % 3]} moves {i % 25} on the news"
    return json.dumps({"id": _post_id(i), "text": text, "ts": T0 + (i % 25) * 7_000}).encode()


def _batches() -> list[list[SourceRecord]]:
    records = [SourceRecord("n", i % 2, i // 2, T0, _body(i)) for i in range(60)]
    return [records[i : i + 10] for i in range(0, 60, 10)]


def _state(proc: Any) -> dict[str, Any]:
    """Every hash, sorted set and stream of the namespace, names without the namespace."""
    client = proc.sink.client
    prefix = proc.keys.namespace
    out: dict[str, Any] = {}
    for key in sorted(client.keys(f"*{prefix}*")):
        name = key.replace(prefix, "NS")
        kind = client.type(key)
        if kind == "hash":
            value = client.hgetall(key)
            if name.endswith(":stats"):
                value.pop("batches")  # counts writes: fewer when merged
            out[name] = value
        elif kind == "zset":
            out[name] = client.zrange(key, 0, -1, withscores=True)
        elif kind == "stream":
            out[name] = [fields for _, fields in client.xrange(key)]
    return out


def _processor(stack: Any, namespace: str | None = None) -> Any:
    namespace = namespace or f"c-{uuid.uuid4().hex[:8]}"
    settings = stack.settings(namespace=namespace, topics=["n"])
    return build_processor(settings, HashScorer(), dead_letters=CollectingDeadLetters())


def test_merged_writes_leave_redis_as_batch_by_batch_writes_do(stack: Any) -> None:
    one_by_one, merged = _processor(stack), _processor(stack)
    batches = _batches()
    for batch in batches:
        one_by_one.process(batch)
    results = []
    for group in (batches[0:3], batches[3:6]):
        staged = [merged.score_phase(batch) for batch in group]  # scored before any write
        results.append(merged.write_phase(merge_staged(staged)))
    assert [r.merged for r in results] == [3, 3]
    assert sum(r.records for r in results) == 60
    counters = merged.sink.client.hgetall(merged.keys.stats)
    valid = [_post_id(i) for i in range(60) if i % 13 != 5]
    expected = (60 - len(valid), len(valid) - len(set(valid)), len(set(valid)))
    assert (int(counters["dlq"]), int(counters["duplicates"]), int(counters["scored"])) == expected
    assert expected == (5, 25, 30)
    assert _state(merged) == _state(one_by_one)


def test_a_merged_group_redelivered_after_a_crash_is_not_counted_twice(stack: Any) -> None:
    proc = _processor(stack)
    batches = _batches()
    proc.write_phase(merge_staged([proc.score_phase(b) for b in batches[0:3]]))
    before = _state(proc)
    again = proc.write_phase(merge_staged([proc.score_phase(b) for b in batches[0:3]]))
    assert again.scored == 0 and again.skipped == 30
    assert _state(proc) == before


def test_a_merged_group_fenced_part_way_counts_only_what_it_still_applies(stack: Any) -> None:
    # Another writer (or this one's earlier write whose reply was lost when Redis went
    # away) applies batches 0-2 between this group's scoring and its write: the write is
    # fenced, re-filtered to batch 3, and counts none of the repeats inside batches 0-2.
    batches = _batches()
    one_by_one = _processor(stack)
    for batch in batches[:4]:
        one_by_one.process(batch)
    late = _processor(stack)
    staged = [late.score_phase(b) for b in batches[:4]]  # scored before anything is applied
    early = _processor(stack, namespace=late.keys.namespace)
    early.write_phase(merge_staged([early.score_phase(b) for b in batches[:3]]))
    result = late.write_phase(merge_staged(staged))
    assert result.skipped == 30 and result.records == 40
    assert _state(late) == _state(one_by_one)
