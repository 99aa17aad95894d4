"""The atomic write of one batch, as plain data (pure: builds Redis commands, sends none).

A ``WritePlan`` holds the partition fences, the post ids to de-duplicate, optional guards
(optimistic-concurrency checks other components such as the alert engine add) and the
list of Redis commands. A large argument used by several commands (a post's summary goes
to the market's stream and to each of its tickers') is added once as a ``Shared`` value:
the sink sends it to Redis once, as a raw script argument, instead of once per command
inside the plan's JSON. ``sentimon.store.sink.RedisSink`` applies the plan in one Lua script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from sentimon.aggregate import AggregateUpdate, ScoredPost
from sentimon.keys import (
    HOUR_TOTAL_FIELDS,
    MARKET,
    META_WATERMARK,
    RECENT_POST,
    STORY_FIELDS,
    Keys,
    minute_fields,
    ticker_entity,
)
from sentimon.windows import HOUR, hour_of

Command = list[Any]

#: Per minute of the hour, its stat fields (``sentimon.keys.STAT_FIELDS`` order).
_MINUTE_FIELDS = [tuple(minute_fields(m, m)) for m in range(60)]
_STORY_MINUTE_FIELDS = [tuple(minute_fields(m, m, STORY_FIELDS)) for m in range(60)]


@dataclass(frozen=True)
class Fence:
    """Records ``first..last`` of a partition; applied only if the stored offset < first."""

    field: str
    first: int
    last: int


@dataclass(frozen=True)
class Guard:
    """Abort the write unless ``HGET key field`` (``GET key`` when ``field`` is None)
    equals ``expected`` (None: absent)."""

    key: str
    field: str | None
    expected: str | None


@dataclass(frozen=True)
class Shared:
    """A command argument that stands for ``WritePlan.values[index]``."""

    index: int


@dataclass
class WritePlan:
    fences: list[Fence] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    values: list[bytes] = field(default_factory=list)

    def add(self, *command: Any) -> None:
        self.commands.append(list(command))

    def share(self, value: bytes) -> Shared:
        """``value`` as an argument several commands can use, sent to Redis once."""
        self.values.append(value)
        return Shared(len(self.values) - 1)

    def resolve(self, arg: Any) -> Any:
        """The value an argument stands for (tests and tools reading a plan)."""
        return self.values[arg.index] if isinstance(arg, Shared) else arg


def plan_aggregates(
    plan: WritePlan,
    keys: Keys,
    update: AggregateUpdate,
    *,
    retention_s: int,
    recent: int,
    watermark_cap: int | None = None,
) -> None:
    """Add the commands that apply ``update``: bucket increments, volume index, recent posts,
    and the watermark. ``watermark_cap``: the highest watermark the namespace may hold (live:
    processing time plus the allowed skew); a stored watermark above it (set before the
    event-time bounds existed) is brought back to this batch's."""
    touched: set[str] = set()
    for (entity, minute_s), stats in sorted(update.buckets.items()):
        hour = hour_of(minute_s)
        key = keys.hour(entity, hour)
        slot = (minute_s - hour) // 60
        for n, pos, neu, neg, s, ss in (_MINUTE_FIELDS[slot], HOUR_TOTAL_FIELDS):
            plan.add("HINCRBY", key, n, stats.count)
            for name, value in ((pos, stats.positive), (neu, stats.neutral), (neg, stats.negative)):
                if value:
                    plan.add("HINCRBY", key, name, value)
            plan.add("HINCRBY", key, s, stats.s_micro)
            plan.add("HINCRBY", key, ss, stats.ss_micro)
        touched.add(key)
    for (entity, minute_s), stats in sorted(update.stories.items()):
        hour = hour_of(minute_s)
        key = keys.hour(entity, hour)
        slot = (minute_s - hour) // 60
        for st, neg, s in (_STORY_MINUTE_FIELDS[slot], STORY_FIELDS):
            plan.add("HINCRBY", key, st, stats.count)
            if stats.negative:
                plan.add("HINCRBY", key, neg, stats.negative)
            plan.add("HINCRBY", key, s, stats.s_micro)
        touched.add(key)
    for (symbol, hour), count in sorted(update.volume.items()):
        key = keys.top(hour)
        plan.add("ZINCRBY", key, count, symbol)
        touched.add(key)
    for key in sorted(touched):
        plan.add("EXPIRE", key, retention_s + HOUR)
    for item in update.posts:
        body = plan.share(orjson.dumps(post_summary(item)))
        for entity in (MARKET, *map(ticker_entity, item.tickers)):
            plan.add("XADD", keys.recent(entity), "MAXLEN", "~", recent, "*", RECENT_POST, body)
    if update.max_event_ms is not None:
        cap = "" if watermark_cap is None else watermark_cap
        plan.add("WATERMARK", keys.meta, META_WATERMARK, update.max_event_ms, cap)


def post_summary(item: ScoredPost) -> dict[str, Any]:
    """What the recent-posts stream keeps of a scored post."""
    post = item.post
    return {
        "id": post.id,
        "ts": post.ts_ms,
        "kind": post.kind,
        "source": post.source,
        "text": post.text,
        "title": post.title,
        "url": post.url,
        "tickers": list(item.tickers),
        "label": item.label,
        "score": round(item.score, 6),
        "model": item.model_id,
        "confidence": None if item.confidence is None else round(item.confidence, 6),
        "entities": [c.as_dict() for c in item.companies],
        "story": item.story_id or post.id,
        "novel": item.novel,
    }
