"""Evaluate entity linking and per-company sentiment on a labelled JSON-lines set.

Each line: ``{"id", "text", "title"?, "category"?, "entities": [{"ticker", "label"}]}``
(``inference/data/ENTITIES_README.md``). The posts go through ``PostScorer``, the code the
consumer runs. Reported:

- **linking**: precision and recall of the (post, ticker) pairs linked;
- **sentiment**: accuracy of each company's label, over the companies both labelled and
  linked, overall and on *mixed* posts (companies of different sentiment); beside it the
  accuracy had every company taken the post's label, which is what per-company scoring
  improves on;
- the same figures per category.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.posts import PostScorer
from sentimon.aggregate import ScoredPost
from sentimon.contract import Post
from sentimon.errors import ConfigError

LABELS = ("negative", "neutral", "positive")
_BATCH = 64


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    title: str | None
    category: str
    gold: dict[str, str]

    @property
    def mixed(self) -> bool:
        return len(set(self.gold.values())) > 1


@dataclass
class Tally:
    """Counts behind one row of the report."""

    items: int = 0
    linked: int = 0
    gold: int = 0
    hits: int = 0
    correct: int = 0
    post_label_correct: int = 0
    mixed_hits: int = 0
    mixed_correct: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def row(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "linking_precision": _ratio(self.hits, self.linked),
            "linking_recall": _ratio(self.hits, self.gold),
            "sentiment_accuracy": _ratio(self.correct, self.hits),
            "sentiment_accuracy_mixed": _ratio(self.mixed_correct, self.mixed_hits),
            "post_label_accuracy": _ratio(self.post_label_correct, self.hits),
            "pairs": {"gold": self.gold, "linked": self.linked, "both": self.hits},
        }


def read_items(path: Path) -> list[Item]:
    """The labelled set; errors name the file, line and field."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            gold = {e["ticker"].upper(): e["label"] for e in obj["entities"]}
            item = Item(str(obj["id"]), obj["text"], obj.get("title"),
                        obj.get("category", "-"), gold)  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{path} line {n}: not an entity item ({exc!r}); see "
                              "inference/data/ENTITIES_README.md for the format") from exc  # fmt: skip
        bad = [label for label in gold.values() if label not in LABELS]
        if bad:
            raise ConfigError(f"{path} line {n}, field 'entities': label {bad[0]!r} is not "
                              f"one of {', '.join(LABELS)}")  # fmt: skip
        items.append(item)
    return items


def evaluate_entities(scorer: PostScorer, items: Sequence[Item]) -> dict[str, Any]:
    """The report (module docstring) of ``scorer`` on ``items``."""
    overall = Tally()
    by_category: dict[str, Tally] = defaultdict(Tally)
    for start in range(0, len(items), _BATCH):
        chunk = items[start : start + _BATCH]
        posts = [Post(i.id, i.text, 0, "news", "eval", (), title=i.title) for i in chunk]
        for item, scored in zip(chunk, scorer.score(posts), strict=True):
            for tally in (overall, by_category[item.category]):
                _count(tally, item, scored)
    return {
        "model_id": scorer.model_id,
        **overall.row(),
        "by_category": {k: by_category[k].row() for k in sorted(by_category)},
        "errors": overall.errors[:50],
    }


def _count(tally: Tally, item: Item, scored: ScoredPost) -> None:
    predicted = {c.ticker: c.label for c in scored.companies}
    tally.items += 1
    tally.linked += len(predicted)
    tally.gold += len(item.gold)
    both = set(predicted) & set(item.gold)
    tally.hits += len(both)
    for ticker in both:
        right = predicted[ticker] == item.gold[ticker]
        tally.correct += right
        tally.post_label_correct += scored.label == item.gold[ticker]
        if item.mixed:
            tally.mixed_hits += 1
            tally.mixed_correct += right
    if set(predicted) != set(item.gold) or any(predicted[t] != item.gold[t] for t in both):
        tally.errors.append({"id": item.id, "text": item.text, "gold": item.gold,
                             "predicted": predicted})  # fmt: skip


def format_entity_report(report: dict[str, Any]) -> str:
    head = f"{'':<22}{'items':>6}{'link P':>8}{'link R':>8}{'sent':>7}{'mixed':>7}{'post':>7}"
    lines = [f"model  {report['model_id']}", "", head]
    rows = [("all", report), *report["by_category"].items()]
    for name, row in rows:
        lines.append(
            f"{name:<22}{row['items']:>6}{_pct(row['linking_precision']):>8}"
            f"{_pct(row['linking_recall']):>8}{_pct(row['sentiment_accuracy']):>7}"
            f"{_pct(row['sentiment_accuracy_mixed']):>7}{_pct(row['post_label_accuracy']):>7}"
        )
    lines += ["", "sent: per-company label accuracy (linked companies); mixed: on posts whose",
              "companies differ; post: had each company taken the post's label"]  # fmt: skip
    return "\n".join(lines)


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
