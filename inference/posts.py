"""Score posts, not just texts: the post's sentiment and each company's.

``PostScorer`` is the one place a post becomes a ``ScoredPost``: the consumer, replays,
backtests and ``sentimon score`` all go through it, so they link and score alike.

1. Link the post to its companies (``sentimon.entities.link``).
2. For a post naming several companies in different clauses, pick each company's text
   (``sentimon.entities.targets``).
3. Score the posts' texts and those company texts in one call to the ``Scorer``: a batch
   with no multi-company post costs exactly what it did before linking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.scorer import LABELS, ScoreBatch, Scorer
from sentimon.aggregate import CompanyScore, ScoredPost
from sentimon.contract import Post, normalise_tickers
from sentimon.entities.link import Entity, Linker, linker_for
from sentimon.entities.targets import target_texts
from sentimon.settings import Settings


@dataclass(frozen=True)
class LinkedPost:
    """A post, its companies, and the text to score for each (None: the post's score)."""

    post: Post
    entities: tuple[Entity, ...]
    targets: dict[str, str | None]


class PostScorer:
    """Links and scores posts with ``scorer``; ``linker`` None: tickers and cashtags only."""

    def __init__(self, scorer: Scorer, linker: Linker | None = None) -> None:
        self.scorer = scorer
        self.linker = linker

    @property
    def model_id(self) -> str:
        return self.scorer.model_id

    def link(self, post: Post) -> LinkedPost:
        if self.linker is None:
            return LinkedPost(post, (), {})
        entities = tuple(self.linker.link(post.text, title=post.title, tickers=post.tickers))
        return LinkedPost(post, entities, target_texts(post.text, entities))

    def score(self, posts: Sequence[Post]) -> list[ScoredPost]:
        """Score ``posts`` (raises whatever the scorer raises, for the caller to isolate)."""
        linked = [self.link(p) for p in posts]
        extra = [(i, t, text) for i, lp in enumerate(linked)
                 for t, text in lp.targets.items() if text is not None]  # fmt: skip
        batch = self.scorer.score([p.text for p in posts] + [text for _, _, text in extra])
        n = len(posts)
        company_rows: dict[tuple[int, str], int] = {
            (i, t): n + j for j, (i, t, _) in enumerate(extra)
        }
        labels, scores = batch.labels, batch.scores.tolist()
        confidence = batch.confidence.tolist()
        escalated = None if batch.escalated is None else batch.escalated.tolist()
        return [
            self.finish(
                lp,
                labels[i],
                scores[i],
                batch.model_of(i),
                {t: (labels[row], scores[row]) for (k, t), row in company_rows.items() if k == i},
                confidence=confidence[i],
                escalated=None if escalated is None else bool(escalated[i]),
            )
            for i, lp in enumerate(linked)
        ]

    def finish(
        self,
        linked: LinkedPost,
        label: str,
        score: float,
        model_id: str,
        company_scores: dict[str, tuple[str, float]] | None = None,
        *,
        confidence: float | None = None,
        escalated: bool | None = None,
    ) -> ScoredPost:
        """The scored post: each company takes its own (label, score) from
        ``company_scores`` where it has one, else the post's."""
        found = company_scores or {}
        companies = tuple(
            CompanyScore(
                e.ticker,
                *found.get(e.ticker, (label, score)),
                relevance=e.relevance,
                name=e.name,
                sector=e.sector,
                mentions=len(e.mentions),
            )
            for e in linked.entities
        )
        return ScoredPost(
            linked.post, label, score, model_id, companies, confidence, escalated=escalated
        )


def scored_json(item: ScoredPost) -> dict[str, object]:
    """A scored post as ``sentimon score --json`` prints it (docs/ENTITIES.md)."""
    return {
        "id": item.post.id,
        "label": item.label,
        "score": round(item.score, 6),
        "confidence": None if item.confidence is None else round(item.confidence, 6),
        "model": item.model_id,
        "entities": [
            {k: v for k, v in c.as_dict().items() if k != "sector"} for c in item.companies
        ],
        "story_id": item.story_id or item.post.id,
        "novel": item.novel,
    }


def score_posts(
    texts: Sequence[str], *, settings: Settings | None = None, scorer: Scorer | None = None
) -> list[dict[str, object]]:
    """Score texts as the consumer does (linking, per-company sentiment, relevance): one
    ``scored_json`` object per text. ``scorer``: reuse one when scoring repeatedly."""
    from inference.loader import load_scorer  # noqa: PLC0415 (heavy: loaded only when used)
    from sentimon.settings import get_settings  # noqa: PLC0415 (settings read on call)

    settings = settings or get_settings()
    posts = PostScorer(scorer or load_scorer(settings), linker_of(settings))
    items = [Post(f"text-{i}", text, 0, "news", "api", extract_tickers(text))
             for i, text in enumerate(texts)]  # fmt: skip
    return [scored_json(item) for item in posts.score(items)]


def extract_tickers(text: str) -> tuple[str, ...]:
    """The cashtags of ``text`` as the contract reads them (no explicit tickers)."""
    found = normalise_tickers([], text, 10_000)
    return found if isinstance(found, tuple) else ()


def linker_of(settings: Settings) -> Linker | None:
    """The entity linker of ``settings``' universe (None when linking is off); built once
    per process and universe file."""
    if not settings.entity_linking:
        return None
    return linker_for(str(settings.universe) if settings.universe else None)


def probabilities_of(batch: ScoreBatch, row: int) -> dict[str, float]:
    """One row of a batch as ``{label: probability}`` (for tools that print them)."""
    values = np.asarray(batch.probs[row], dtype=float)
    return {label: round(float(v), 6) for label, v in zip(LABELS, values, strict=True)}
