"""A batch between scoring and writing, and several of them merged into one write.

``BatchProcessor.score_phase`` returns a ``StagedBatch``; ``write_phase`` applies one in a
single atomic Redis write. Under a backlog the consume loop hands the writer several
scored batches at once, and ``merge_staged`` turns them into one: one write, one alert
evaluation, one set of counters, while each batch was still scored as its own small
unit. A merged batch is what one batch of all their records would have been:

- the offsets to commit are the highest of each partition;
- a post id already in an earlier batch of the group is a duplicate, as the sink's
  de-duplication would have found had the earlier batch been written first (the sink
  checks ids against Redis, not against each other within one write);
- records, dead letters and per-topic counts add up.

Pure logic: imports neither Kafka nor Redis.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from consumers.dlq import DeadLetter
from consumers.records import SourceRecord
from sentimon.aggregate import AggregateUpdate, ScoredPost
from sentimon.contract import Post


@dataclass
class BatchResult:
    """What one write did. ``commit`` maps (topic, partition) to the next offset to read."""

    commit: dict[tuple[str, int], int] = field(default_factory=dict)
    records: int = 0
    skipped: int = 0
    scored: int = 0
    invalid: int = 0
    duplicates: int = 0
    update: AggregateUpdate | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: topic -> {"records", "scored", "dlq"} counts of this batch.
    per_topic: dict[str, dict[str, int]] = field(default_factory=dict)
    #: (topic, partition) -> Kafka timestamp of the batch's last record there.
    last_ts: dict[tuple[str, int], int] = field(default_factory=dict)
    #: Micro-batches this write carried: 1, more when scored batches were merged into
    #: one write, 0 for a batch that an earlier batch's write carried (its records,
    #: offsets and counts are in that one's result).
    merged: int = 1


@dataclass
class PreparedBatch:
    """A batch's records not yet applied, validated: posts to score, dead letters, and
    the records whose post id an earlier record of the batch already had (kept as
    records, not a count, so a batch re-filtered at the fences counts only its own)."""

    records: list[SourceRecord]
    posts: list[tuple[SourceRecord, Post]]
    invalid: list[DeadLetter]
    repeats: list[SourceRecord]

    @property
    def duplicates(self) -> int:
        return len(self.repeats)


@dataclass
class StagedBatch:
    """A batch between scoring and writing."""

    records: Sequence[SourceRecord]
    result: BatchResult
    prepared: PreparedBatch | None
    scored: list[ScoredPost]


def merge_staged(group: Sequence[StagedBatch]) -> StagedBatch:
    """One batch holding ``group``'s batches, in order (see the module docstring)."""
    if not group:
        raise ValueError("merge_staged needs at least one batch")
    if len(group) == 1:
        return group[0]
    records = [r for staged in group for r in staged.records]
    result = _merge_results([staged.result for staged in group])
    parts = [(staged.prepared, staged.scored) for staged in group if staged.prepared]
    if not parts:
        return StagedBatch(records, result, None, [])
    merged = PreparedBatch([], [], [], [])
    scored: list[ScoredPost] = []
    seen: set[str] = set()
    for prepared, batch_scored in parts:
        merged.records.extend(prepared.records)
        merged.invalid.extend(prepared.invalid)
        merged.repeats.extend(prepared.repeats)
        for pair in prepared.posts:
            if pair[1].id in seen:
                merged.repeats.append(pair[0])
            else:
                merged.posts.append(pair)
        scored.extend(s for s in batch_scored if s.post.id not in seen)
        seen.update(post.id for _, post in prepared.posts)
    return StagedBatch(records, result, merged, scored)


def _merge_results(results: Sequence[BatchResult]) -> BatchResult:
    """The counts a staged batch has before its write, summed in batch order."""
    out = BatchResult(merged=len(results))
    for result in results:
        for part, offset in result.commit.items():
            out.commit[part] = max(offset, out.commit.get(part, offset))
        out.records += result.records
        out.skipped += result.skipped
        for name, seconds in result.timings.items():
            out.timings[name] = out.timings.get(name, 0.0) + seconds
        for topic, counts in result.per_topic.items():
            total = out.per_topic.setdefault(topic, {"records": 0, "scored": 0, "dlq": 0})
            for name, count in counts.items():
                total[name] = total.get(name, 0) + count
        out.last_ts.update(result.last_ts)
    return out
