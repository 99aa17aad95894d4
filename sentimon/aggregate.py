"""Turn a batch of scored posts into aggregate updates (pure: no Redis, no Kafka).

The result, an ``AggregateUpdate``, is plain data the Redis sink applies atomically and
the alert engine reads to know which entities a batch touched.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sentimon.contract import Post
from sentimon.keys import MARKET, kind_entity, ticker_entity
from sentimon.windows import Stats, minute_of


@dataclass(frozen=True)
class ScoredPost:
    """A validated post with its sentiment."""

    post: Post
    label: str
    score: float
    model_id: str

    def entities(self) -> list[str]:
        """Every aggregate this post counts toward: market, its source kind, its tickers."""
        return [MARKET, kind_entity(self.post.kind), *map(ticker_entity, self.post.tickers)]


@dataclass
class AggregateUpdate:
    """All aggregate changes of one batch, keyed by (entity, minute start in epoch s)."""

    buckets: dict[tuple[str, int], Stats] = field(default_factory=dict)
    #: (ticker, hour start) -> posts added, for the volume index.
    volume: dict[tuple[str, int], int] = field(default_factory=dict)
    posts: list[ScoredPost] = field(default_factory=list)
    max_event_ms: int | None = None

    @property
    def entities(self) -> set[str]:
        return {entity for entity, _ in self.buckets}


def aggregate(scored: Iterable[ScoredPost]) -> AggregateUpdate:
    """Sum scored posts into per-entity minute buckets."""
    parts: dict[tuple[str, int], list[Stats]] = defaultdict(list)
    volume: dict[tuple[str, int], int] = defaultdict(int)
    posts = []
    max_ms: int | None = None
    for item in scored:
        minute = minute_of(item.post.ts_ms)
        delta = Stats.of_post(item.label, item.score)
        for entity in item.entities():
            parts[(entity, minute)].append(delta)
        for symbol in item.post.tickers:
            volume[(symbol, minute // 3600 * 3600)] += 1
        posts.append(item)
        max_ms = item.post.ts_ms if max_ms is None else max(max_ms, item.post.ts_ms)
    buckets = {key: Stats.total(deltas) for key, deltas in parts.items()}
    return AggregateUpdate(buckets, dict(volume), posts, max_ms)
