"""The drill-down's minute series: a ticker's posts and the stories begun, in one read.

``Query.many_series`` reads the post stats of each minute; the drill-down chart also shows
how many stories began in each bin (``sentimon.stories``: a story counts once, at its
first post, in the story fields ``STORY_FIELDS`` of the hour hashes). Both, and the
relevance levels the chart leaves out, are read here in one pipelined round trip, the
way ``Query.many_series`` reads its minutes (the same hour spans of the same window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sentimon.keys import STAT_FIELDS, STORY_FIELDS, minute_fields
from sentimon.store.query import Point, Query
from sentimon.windows import MINUTE, Stats, window_spans

_WIDE = STAT_FIELDS + STORY_FIELDS


@dataclass(frozen=True)
class DrillSeries:
    """Per-minute series over the same minutes: ``posts`` of the entity, ``stories`` begun
    (``count``, ``negative``, ``s_micro``), and ``others``' posts (the relevance levels)."""

    posts: list[Point]
    stories: list[Point]
    others: dict[str, list[Point]]


def read_series(
    query: Query, entity: str, others: Sequence[str], seconds: int, end_ms: int | None
) -> DrillSeries:
    """``entity``'s posts and stories, and ``others``' posts, per minute of the window of
    ``seconds`` ending at ``end_ms`` (one round trip)."""
    spans = window_spans(query.resolve_end(end_ms), seconds)
    pipe = query.client.pipeline(transaction=False)
    for name, fields in [(entity, _WIDE), *((o, STAT_FIELDS) for o in others)]:
        for span in spans:
            key = query.keys.hour(name, span.hour_s)
            pipe.hmget(key, minute_fields(span.first, span.last, fields))
    replies = iter(pipe.execute())
    minutes = [span.hour_s + m * MINUTE for span in spans for m in range(span.first, span.last + 1)]
    wide = [chunk for _ in spans for chunk in _chunks(next(replies), len(_WIDE))]
    posts = [Point(t, Stats.from_values(c[:6])) for t, c in zip(minutes, wide, strict=True)]
    stories = [Point(t, _story(c[6:])) for t, c in zip(minutes, wide, strict=True)]
    rest = {}
    for name in others:
        chunks = [chunk for _ in spans for chunk in _chunks(next(replies), len(STAT_FIELDS))]
        rest[name] = [Point(t, Stats.from_values(c)) for t, c in zip(minutes, chunks, strict=True)]
    return DrillSeries(posts, stories, rest)


def _chunks(values: list[Any], width: int) -> list[list[Any]]:
    return [values[i : i + width] for i in range(0, len(values), width)]


def _story(values: list[Any]) -> Stats:
    count, negative, s_micro = (int(v) if v is not None else 0 for v in values)
    return Stats(count=count, negative=negative, s_micro=s_micro)
