"""One batch, start to finish: fence-filter -> validate -> score -> dead-letter -> one
atomic Redis write. The caller commits the returned offsets only after this returns.

Source-agnostic: the live Kafka consumer, the replay and the file backtest all feed
batches of ``SourceRecord`` through the same ``BatchProcessor``. The live consumer may
write several scored batches as one (``consumers.staged.merge_staged``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from consumers.dlq import DeadLetter, DeadLetterSink
from consumers.faults import fault_point
from consumers.isolate import score_isolating
from consumers.model_health import ModelHealth
from consumers.records import SourceRecord
from consumers.staged import BatchResult, PreparedBatch, StagedBatch
from inference.posts import PostScorer
from inference.scorer import Scorer
from sentimon.aggregate import AggregateUpdate, ScoredPost, aggregate
from sentimon.contract import Invalid, Limits, Post, validate
from sentimon.entities.link import Linker
from sentimon.errors import SentimonError, SinkError
from sentimon.eventtime import EventTimePolicy
from sentimon.keys import (
    BATCHES,
    DLQ,
    DUPLICATES,
    HOOK_ERRORS,
    META_MODEL,
    RECORDS,
    SCORED,
    Keys,
)
from sentimon.store.sink import ApplyResult, RedisSink
from sentimon.store.stories import StoryIndex
from sentimon.stories.assign import Candidate, Story
from sentimon.writeplan import Fence, WritePlan, plan_aggregates

log = logging.getLogger(__name__)

_MAX_ATTEMPTS = 20
#: Without bounds of its own a processor trusts any time the contract accepts.
ANY_TIME = EventTimePolicy()


class BatchHook(Protocol):
    """Extends a batch's atomic write (e.g. alert evaluation adds outbox commands)."""

    def before_write(self, plan: WritePlan, update: AggregateUpdate) -> None: ...

    def after_write(self, update: AggregateUpdate) -> None: ...


class BatchProcessor:
    """Processes batches for one namespace; safe against redelivery and crashes."""

    def __init__(
        self,
        scorer: Scorer,
        sink: RedisSink,
        dead_letters: DeadLetterSink,
        *,
        keys: Keys,
        limits: Limits,
        retention_s: int,
        recent_posts: int,
        kind_of: dict[str, str] | None = None,
        hooks: Sequence[BatchHook] = (),
        event_time: EventTimePolicy = ANY_TIME,
        clock: Callable[[], float] = time.time,
        linker: Linker | None = None,
        stories: StoryIndex | None = None,
        health: ModelHealth | None = None,
        min_confidence: float = 0.0,
    ) -> None:
        self.scorer = scorer
        #: Posts less sure than this are recent posts only, in no aggregate.
        self.min_confidence = min_confidence
        #: Links each post to its companies and scores each (``inference.posts``).
        self.posts = PostScorer(scorer, linker)
        #: Gives each post its story, in the same atomic write (None: every post its own).
        self.stories = stories
        #: Post id -> its story fingerprint, from the score phase until its write.
        self._fingerprints: dict[str, Candidate] = {}
        self.sink = sink
        self.dead_letters = dead_letters
        self.keys = keys
        self.limits = limits
        self.retention_s = retention_s
        self.recent_posts = recent_posts
        self.kind_of = kind_of or {}
        self.hooks = list(hooks)
        #: The model-health window (``consumers.model_health``): a hook run after ``hooks``.
        self.health = health
        #: Which event times are trusted; the rest are dead-lettered with the reason.
        self.event_time = event_time
        self.clock = clock
        self._fences: dict[str, int] = {}
        # Batches may be scored concurrently; fence checks and validation run one at a time.
        self._prepare_lock = threading.Lock()

    # --- fences ------------------------------------------------------------------------
    def forget_partitions(self, fields: Sequence[str]) -> None:
        """Drop cached fences (after a revoke: another consumer may advance them)."""
        for name in fields:
            self._fences.pop(name, None)

    def _refresh_fences(self, records: Sequence[SourceRecord], *, force: bool = False) -> None:
        wanted = sorted({r.fence_field for r in records})
        missing = wanted if force else [f for f in wanted if f not in self._fences]
        if missing:
            loaded = self.sink.load_fences(missing)
            for name in missing:
                self._fences[name] = loaded.get(name, -1)

    def _rebase_reset_logs(self, records: Sequence[SourceRecord]) -> None:
        """A partition whose log now ends at or below its fence lost its data (a broker
        restarted on memory storage, a recreated topic, an unclean leader election): every
        new record would be skipped as already applied. Say so, and move the fence back to
        just below these records so new data counts (post ids seen before stay de-duplicated
        by the ``seen`` keys)."""
        for name, (lowest, log_end) in _log_ends(records).items():
            fence = self._fences.get(name, -1)
            if lowest > fence or log_end > fence:
                continue
            if self.sink.rebase_fence(name, expected=fence, new=lowest - 1):
                log.warning(
                    "offsets went backwards on %s: the broker's log ends at offset %d but "
                    "offset %d was already applied, so the broker lost this partition's data "
                    "(restart on memory storage, recreated topic or unclean leader election); "
                    "applied-offset fence reset to %d so new records are counted",
                    name,
                    log_end,
                    fence,
                    lowest - 1,
                )
                reset = getattr(self.dead_letters, "reset", None)
                if reset is not None:  # its dead-letter marks count old offsets too
                    reset([name])
            self._fences[name] = self.sink.load_fences([name]).get(name, -1)

    def _unapplied(self, records: Sequence[SourceRecord]) -> list[SourceRecord]:
        return [r for r in records if r.offset > self._fences.get(r.fence_field, -1)]

    # --- the batch ---------------------------------------------------------------------
    def process(self, records: Sequence[SourceRecord]) -> BatchResult:
        """Apply a batch. Raises SinkError (nothing committed) when Redis or the DLQ fail."""
        return self.write_phase(self.score_phase(records))

    def score_phase(self, records: Sequence[SourceRecord]) -> StagedBatch:
        """Fence-filter, validate and score (no writes). The consume loop runs this for
        the next batch while the previous one is still being written."""
        result = BatchResult(records=len(records), commit=_next_offsets(records))
        for r in records:
            result.per_topic.setdefault(r.topic, {"records": 0, "scored": 0, "dlq": 0})
            result.per_topic[r.topic]["records"] += 1
            result.last_ts[(r.topic, r.partition)] = r.timestamp_ms
        if not records:
            return StagedBatch(records, result, None, [])
        started = time.perf_counter()
        with self._prepare_lock:
            self._refresh_fences(records)
            self._rebase_reset_logs(records)
            prepared = self._prepare(self._unapplied(records))
        result.timings["validate"] = time.perf_counter() - started
        if not prepared.records:
            result.skipped = len(records)
            return StagedBatch(records, result, None, [])
        scored = self._score(prepared, result)
        if self.health is not None:  # text measures here, off the one writer thread
            self.health.observe(scored)
        if self.stories is not None:  # fingerprints here, off the one writer thread
            self._fingerprints.update(self._story_candidates(scored))
        fault_point("after_score")
        return StagedBatch(records, result, prepared, scored)

    def write_phase(self, staged: StagedBatch) -> BatchResult:
        """Dead-letter the invalid records, then the one atomic write. Batches must be
        written in the order they were read."""
        result, prepared, scored = staged.result, staged.prepared, staged.scored
        if prepared is None:
            return result
        self.dead_letters.publish(prepared.invalid)
        began_write = time.perf_counter()
        # What was written: a write fenced part-way is re-filtered to the records it
        # still applies, and the counts below are of those.
        update, planned, prepared, scored = self._write(prepared, scored, staged.records)
        result.timings["write"] = time.perf_counter() - began_write
        for hook in planned:
            hook.after_write(update)
        result.update = update
        result.skipped = len(staged.records) - len(prepared.records)
        result.scored = len(update.posts)
        result.invalid = len(prepared.invalid)
        result.duplicates = prepared.duplicates + (len(scored) - len(update.posts))
        for letter in prepared.invalid:
            result.per_topic[letter.record.topic]["dlq"] += 1
        applied = {s.post.id for s in update.posts}
        for record, post in prepared.posts:
            if post.id in applied:
                result.per_topic[record.topic]["scored"] += 1
        return result

    def _prepare(self, records: list[SourceRecord]) -> PreparedBatch:
        posts: list[tuple[SourceRecord, Post]] = []
        invalid: list[DeadLetter] = []
        seen: set[str] = set()
        repeats: list[SourceRecord] = []
        now_ms = int(self.clock() * 1000)
        for record in records:
            kind = self.kind_of.get(record.topic, record.topic)
            outcome = validate(
                record.value, kind=kind, record_ts_ms=record.timestamp_ms, limits=self.limits
            )
            if isinstance(outcome, Invalid):
                invalid.append(DeadLetter(record, outcome.reason))
            elif why := self.event_time.reject_reason(outcome.ts_ms, now_ms):
                invalid.append(DeadLetter(record, why))
            elif outcome.id in seen:
                repeats.append(record)
            else:
                seen.add(outcome.id)
                posts.append((record, outcome))
        return PreparedBatch(records, posts, invalid, repeats)

    def _score(self, prepared: PreparedBatch, result: BatchResult) -> list[ScoredPost]:
        if not prepared.posts:
            return []
        began = time.perf_counter()
        try:
            return self.posts.score([post for _, post in prepared.posts])
        except SentimonError:
            raise
        except Exception as exc:  # poison input: dead-letter what the scorer fails on
            return self._score_isolating(prepared, exc)
        finally:
            result.timings["score"] = time.perf_counter() - began

    def _score_isolating(self, prepared: PreparedBatch, error: Exception) -> list[ScoredPost]:
        """The scorer raised on the batch: its failing posts become dead letters with the
        error as the reason (``consumers.isolate``), the others are scored (each company
        with the post's own score: per-company texts are not retried one by one)."""
        texts = [post.text for _, post in prepared.posts]
        isolated = score_isolating(self.scorer, prepared.posts, texts, error)
        failed = {id(pair) for pair, _ in isolated.failed}
        prepared.posts = [pair for pair in prepared.posts if id(pair) not in failed]
        prepared.invalid.extend(DeadLetter(record, why) for (record, _), why in isolated.failed)
        return [
            self.posts.finish(self.posts.link(post), label, score, model_id)
            for (_, post), label, score, model_id in isolated.scored
        ]

    def _write(
        self, prepared: PreparedBatch, scored: list[ScoredPost], records: Sequence[SourceRecord]
    ) -> tuple[AggregateUpdate, list[BatchHook], PreparedBatch, list[ScoredPost]]:
        """The atomic write; returns the update, the hooks whose changes it carried, and
        the prepared batch and scored posts it was planned from (fewer than given when a
        fence moved meanwhile)."""
        dropped_ids: set[str] = set()
        found = self._fingerprints_of(scored)
        for _attempt in range(_MAX_ATTEMPTS):
            live = [s for s in scored if s.post.id not in dropped_ids]
            assignment = None
            if self.stories is not None:
                assignment = self.stories.assign([found[s.post.id] for s in live])
                live = [_with_story(s, assignment.stories[s.post.id]) for s in live]
            update = aggregate(live, min_confidence=self.min_confidence)
            plan = self._plan(prepared, update, records)
            if self.stories is not None and assignment is not None:
                self.stories.plan(plan, assignment)
            every = [*self.hooks, self.health] if self.health is not None else self.hooks
            planned = [hook for hook in every if self._run_hook(hook, plan, update)]
            outcome = self.sink.apply(plan)
            if outcome.ok:
                for fence in plan.fences:
                    self._fences[fence.field] = fence.last
                if self.stories is not None and assignment is not None:
                    self.stories.remember(assignment)
                return update, planned, prepared, scored
            prepared, scored = self._resolve(outcome, prepared, scored, records, dropped_ids)
        raise SinkError(f"batch could not be applied after {_MAX_ATTEMPTS} attempts")

    def _fingerprints_of(self, scored: list[ScoredPost]) -> dict[str, Candidate]:
        """The fingerprints the score phase computed, or computed now (an isolated batch)."""
        found: dict[str, Candidate] = {}
        missing = []
        for item in scored:
            candidate = self._fingerprints.pop(item.post.id, None)
            if candidate is None:
                missing.append(item)
            else:
                found[item.post.id] = candidate
        found.update(self._story_candidates(missing))
        if len(self._fingerprints) > 100_000:  # left by batches never written (a failure)
            self._fingerprints.clear()
        return found

    def _story_candidates(self, scored: list[ScoredPost]) -> dict[str, Candidate]:
        """Each post's fingerprint, computed once however often the write is retried."""
        if self.stories is None:
            return {}
        return {s.post.id: Candidate.of(s.post.id, s.post.text) for s in scored}

    def _run_hook(self, hook: BatchHook, plan: WritePlan, update: AggregateUpdate) -> bool:
        """Let ``hook`` extend the plan. A bug in it (any error that is not a
        ``SentimonError``) must not stop the pipeline on this batch at every redelivery:
        it is logged with its traceback and counted (``hook_errors`` in ``sentimon
        status``), whatever it had added is taken out again, and the batch's aggregates are
        written without it. False when that happened."""
        marks = len(plan.commands), len(plan.guards), len(plan.values)
        try:
            hook.before_write(plan, update)
        except SentimonError:
            raise
        except Exception:
            log.exception(
                "%s failed on a batch of %d posts (a bug: please report it with this "
                "traceback); the batch is written without its changes (counted in "
                "hook_errors)",
                type(hook).__name__,
                len(update.posts),
            )
            del plan.commands[marks[0] :], plan.guards[marks[1] :], plan.values[marks[2] :]
            plan.add("HINCRBY", self.keys.stats, HOOK_ERRORS, 1)
            return False
        return True

    def _resolve(
        self,
        outcome: ApplyResult,
        prepared: PreparedBatch,
        scored: list[ScoredPost],
        records: Sequence[SourceRecord],
        dropped_ids: set[str],
    ) -> tuple[PreparedBatch, list[ScoredPost]]:
        if outcome.status == "dup":
            dropped_ids.update(outcome.detail)
            return prepared, scored
        if outcome.status == "fenced":
            log.warning("partition %s was advanced by another writer; re-filtering", outcome.detail)
            self._refresh_fences(records, force=True)
            keep = set(map(id, self._unapplied(prepared.records)))
            prepared = PreparedBatch(
                [r for r in prepared.records if id(r) in keep],
                [(r, p) for r, p in prepared.posts if id(r) in keep],
                [d for d in prepared.invalid if id(d.record) in keep],
                [r for r in prepared.repeats if id(r) in keep],
            )
            kept_posts = {id(p) for _, p in prepared.posts}
            return prepared, [s for s in scored if id(s.post) in kept_posts]
        log.info("write guard conflict on %s; re-evaluating", outcome.detail)
        return prepared, scored

    def _plan(
        self, prepared: PreparedBatch, update: AggregateUpdate, records: Sequence[SourceRecord]
    ) -> WritePlan:
        plan = WritePlan(ids=[s.post.id for s in update.posts])
        plan.fences = _fences_of(prepared.records)
        plan_aggregates(
            plan,
            self.keys,
            update,
            retention_s=self.retention_s,
            recent=self.recent_posts,
            watermark_cap=self.event_time.watermark_cap(int(self.clock() * 1000)),
        )
        stats = self.keys.stats
        plan.add("HINCRBY", stats, RECORDS, len(prepared.records))
        plan.add("HINCRBY", stats, SCORED, len(update.posts))
        plan.add("HINCRBY", stats, BATCHES, 1)
        if prepared.invalid:
            plan.add("HINCRBY", stats, DLQ, len(prepared.invalid))
            per_topic: dict[str, int] = {}
            for letter in prepared.invalid:
                per_topic[letter.record.topic] = per_topic.get(letter.record.topic, 0) + 1
            for topic, count in sorted(per_topic.items()):
                plan.add("HINCRBY", self.keys.dlq, topic, count)
        duplicates = prepared.duplicates + len(
            {s.post.id for s in update.posts} ^ {p.id for _, p in prepared.posts}
        )
        if duplicates:
            plan.add("HINCRBY", stats, DUPLICATES, duplicates)
        if update.posts:
            plan.add("HSET", self.keys.meta, META_MODEL, update.posts[0].model_id)
        return plan


def _with_story(item: ScoredPost, story: Story) -> ScoredPost:
    return replace(item, story_id=story.story_id, novel=story.novel)


def _fences_of(records: Sequence[SourceRecord]) -> list[Fence]:
    spans: dict[str, tuple[int, int]] = {}
    for r in records:
        lo, hi = spans.get(r.fence_field, (r.offset, r.offset))
        spans[r.fence_field] = (min(lo, r.offset), max(hi, r.offset))
    return [Fence(name, lo, hi) for name, (lo, hi) in sorted(spans.items())]


def _log_ends(records: Sequence[SourceRecord]) -> dict[str, tuple[int, int]]:
    """Per fence field with a known log end: (lowest offset, highest log end) in the batch."""
    out: dict[str, tuple[int, int]] = {}
    for r in records:
        if r.log_end is None:
            continue
        lo, end = out.get(r.fence_field, (r.offset, r.log_end))
        out[r.fence_field] = (min(lo, r.offset), max(end, r.log_end))
    return out


def _next_offsets(records: Sequence[SourceRecord]) -> dict[tuple[str, int], int]:
    out: dict[tuple[str, int], int] = {}
    for r in records:
        key = (r.topic, r.partition)
        out[key] = max(out.get(key, 0), r.offset + 1)
    return out
