"""Turn a batch of scored posts into aggregate updates (pure: no Redis, no Kafka).

The result, an ``AggregateUpdate``, is plain data the Redis sink applies atomically and
the alert engine reads to know which entities a batch touched.

What a post counts toward:

- ``market`` and its source kind (``kind:news``), with the post's own label and score;
- each company it is about (``ticker:<SYMBOL>``), with that company's label and score;
  a company named with relevance below 1 also counts in the entity of its relevance
  level (``ticker:AAPL@0.6``), so reads can leave low-relevance mentions out exactly
  and weight by relevance exactly (``sentimon.store.query``);
- each sector among its companies (``sector:<name>``), once per post, with the label and
  score of its most relevant company there.

The first post of each story (``ScoredPost.novel``) also counts, in every one of those
entities, toward its story fields: stories counted, negative stories, and the story-level
score sum (each story once, by its first post).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sentimon.contract import Post
from sentimon.entities.relevance import relevance
from sentimon.keys import MARKET, kind_entity, relevance_entity, sector_entity, ticker_entity
from sentimon.windows import Stats, minute_of


@dataclass(frozen=True)
class CompanyScore:
    """A company a post is about, with the sentiment toward it and its relevance."""

    ticker: str
    label: str
    score: float
    relevance: float = 1.0
    name: str | None = None
    sector: str | None = None
    mentions: int = 1

    def as_dict(self) -> dict[str, object]:
        return {
            "ticker": self.ticker,
            "name": self.name,
            "sector": self.sector,
            "label": self.label,
            "score": round(self.score, 6),
            "relevance": self.relevance,
            "mentions": self.mentions,
        }


@dataclass(frozen=True)
class ScoredPost:
    """A validated post with its sentiment, and the companies it is about.

    ``companies`` come from entity linking (``inference.posts.PostScorer``). Left empty,
    the post's tickers stand for them, each with the post's label and score."""

    post: Post
    label: str
    score: float
    model_id: str
    companies: tuple[CompanyScore, ...] = ()
    #: The model's probability of ``label`` (None where the scorer gave none).
    confidence: float | None = None
    #: The post's story (``sentimon.stories``): the id of its first post; ``novel`` when
    #: this post began it. Without a story index every post is its own story.
    story_id: str | None = None
    novel: bool = True
    #: Whether a cascade re-scored the post with its accurate model (None: no cascade).
    escalated: bool | None = None

    def __post_init__(self) -> None:
        if not self.companies and self.post.tickers:
            object.__setattr__(self, "companies", _from_tickers(self))

    @property
    def tickers(self) -> tuple[str, ...]:
        return tuple(c.ticker for c in self.companies)

    def entities(self) -> list[str]:
        """Every main aggregate this post counts toward: market, its source kind, its
        companies and their sectors (not the relevance-level entities)."""
        sectors = dict.fromkeys(c.sector for c in self.companies if c.sector)
        return [
            MARKET,
            kind_entity(self.post.kind),
            *(ticker_entity(c.ticker) for c in self.companies),
            *map(sector_entity, sectors),
        ]


def _from_tickers(item: ScoredPost) -> tuple[CompanyScore, ...]:
    count = len(item.post.tickers)
    return tuple(
        CompanyScore(t, item.label, item.score, relevance(rank=i, companies=count, mentions=1,
                                                         in_title=False))
        for i, t in enumerate(item.post.tickers)
    )  # fmt: skip


@dataclass
class AggregateUpdate:
    """All aggregate changes of one batch, keyed by (entity, minute start in epoch s)."""

    buckets: dict[tuple[str, int], Stats] = field(default_factory=dict)
    #: (entity, minute) -> the stats of the stories begun (the first post of each): count,
    #: negative and score sum (``sentimon.keys.STORY_FIELDS``).
    stories: dict[tuple[str, int], Stats] = field(default_factory=dict)
    #: (ticker, hour start) -> posts added, for the volume index.
    volume: dict[tuple[str, int], int] = field(default_factory=dict)
    posts: list[ScoredPost] = field(default_factory=list)
    max_event_ms: int | None = None

    @property
    def entities(self) -> set[str]:
        return {entity for entity, _ in self.buckets}


def aggregate(scored: Iterable[ScoredPost], *, min_confidence: float = 0.0) -> AggregateUpdate:
    """Sum scored posts into per-entity minute buckets. A post whose confidence is below
    ``min_confidence`` is kept among the recent posts but counts in no aggregate."""
    parts: dict[tuple[str, int], list[Stats]] = defaultdict(list)
    stories: dict[tuple[str, int], list[Stats]] = defaultdict(list)
    volume: dict[tuple[str, int], int] = defaultdict(int)
    posts = []
    max_ms: int | None = None
    for item in scored:
        posts.append(item)
        max_ms = item.post.ts_ms if max_ms is None else max(max_ms, item.post.ts_ms)
        if item.confidence is not None and item.confidence < min_confidence:
            continue
        minute = minute_of(item.post.ts_ms)
        delta = Stats.of_post(item.label, item.score)
        parts[(MARKET, minute)].append(delta)
        parts[(kind_entity(item.post.kind), minute)].append(delta)
        if item.novel:
            stories[(MARKET, minute)].append(delta)
            stories[(kind_entity(item.post.kind), minute)].append(delta)
        for entity, company in _company_entities(item):
            stats = Stats.of_post(company.label, company.score)
            parts[(entity, minute)].append(stats)
            if item.novel:
                stories[(entity, minute)].append(stats)
            if company.relevance < 1.0:
                parts[(relevance_entity(entity, company.relevance), minute)].append(stats)
        for company in item.companies:
            volume[(company.ticker, minute // 3600 * 3600)] += 1
    buckets = {key: Stats.total(deltas) for key, deltas in parts.items()}
    firsts = {key: Stats.total(deltas) for key, deltas in stories.items()}
    return AggregateUpdate(buckets, firsts, dict(volume), posts, max_ms)


def _company_entities(item: ScoredPost) -> list[tuple[str, CompanyScore]]:
    """(entity, the company whose sentiment it counts): each company, then each sector
    once with its most relevant company (the first named on a tie)."""
    out = [(ticker_entity(c.ticker), c) for c in item.companies]
    best: dict[str, CompanyScore] = {}
    for company in item.companies:
        if company.sector and (
            company.sector not in best or company.relevance > best[company.sector].relevance
        ):
            best[company.sector] = company
    out += [(sector_entity(sector), c) for sector, c in best.items()]
    return out
