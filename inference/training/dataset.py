"""Labelled CSV files (columns ``text,label``) as texts and canonical label ids.

Labels may be names (negative/neutral/positive, bearish/bullish, any case) or integers.
Integers go through an explicit mapping; without one the twitter-financial-news
convention applies (0 bearish -> negative, 1 bullish -> positive, 2 neutral).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.labels import TWITTER_FINANCIAL_NEWS_MAP, canonical_name
from inference.scorer import LABELS
from sentimon.errors import ConfigError

log = logging.getLogger(__name__)

#: The label of a row only a teacher labelled (a distillation transfer-set text).
UNLABELLED = -1


@dataclass(frozen=True)
class Labelled:
    """Texts and their canonical label ids (0 negative, 1 neutral, 2 positive)."""

    texts: list[str]
    labels: np.ndarray
    source: str = ""

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, rows: Sequence[int] | np.ndarray) -> Labelled:
        idx = np.asarray(rows, dtype=np.int64)
        return Labelled([self.texts[i] for i in idx.tolist()], self.labels[idx], self.source)

    def counts(self) -> dict[str, int]:
        counts = {name: int((self.labels == i).sum()) for i, name in enumerate(LABELS)}
        unlabelled = int((self.labels == UNLABELLED).sum())
        return counts | ({"teacher_only": unlabelled} if unlabelled else {})


def to_label_ids(raw: Sequence[str], label_map: Mapping[str, str] | None = None) -> np.ndarray:
    """Canonical ids of raw CSV labels; ConfigError naming the first unknown one."""
    mapping = {str(k).strip().lower(): v for k, v in (label_map or {}).items()}
    if not mapping and all(value.strip().lstrip("-").isdigit() for value in raw):
        log.info("integer labels without --label-map: using 0=negative,1=positive,2=neutral")
        mapping = dict(TWITTER_FINANCIAL_NEWS_MAP)
    index = {name: i for i, name in enumerate(LABELS)}
    out = np.empty(len(raw), dtype=np.int64)
    for row, value in enumerate(raw):
        key = value.strip().lower()
        target = canonical_name(mapping.get(key, key))
        if target is None:
            raise ConfigError(
                f"row {row + 2}: label {value!r} is neither a sentiment name nor in the label "
                "map: use negative/neutral/positive or pass --label-map 0=negative,..."
            )
        out[row] = index[target]
    return out


def read_labelled(path: Path, label_map: Mapping[str, str] | None = None) -> Labelled:
    """Read a ``text,label`` CSV."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = set(reader.fieldnames or [])
            if not {"text", "label"} <= fields:
                raise ConfigError(f"{path}: need columns text,label, found {sorted(fields)}")
            rows = [(r["text"] or "", r["label"] or "") for r in reader]
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise ConfigError(f"{path} has no rows")
    texts = [text for text, _ in rows]
    return Labelled(texts, to_label_ids([label for _, label in rows], label_map), str(path))


def concat(parts: Sequence[Labelled]) -> Labelled:
    texts = [t for part in parts for t in part.texts]
    labels = np.concatenate([part.labels for part in parts]) if parts else np.zeros(0, np.int64)
    return Labelled(texts, labels, "+".join(p.source for p in parts))


def with_unlabelled(data: Labelled, texts: Sequence[str]) -> Labelled:
    """``data`` followed by ``texts`` labelled ``UNLABELLED`` (a teacher's soft targets
    are then their only training signal)."""
    labels = np.concatenate([data.labels, np.full(len(texts), UNLABELLED, dtype=np.int64)])
    return Labelled([*data.texts, *texts], labels, data.source)


def sample(data: Labelled, n: int, seed: int) -> Labelled:
    """A seeded random subset of ``n`` rows (all rows if ``n`` >= len)."""
    if n >= len(data):
        return data
    rng = np.random.default_rng(seed)
    return data.take(np.sort(rng.choice(len(data), size=n, replace=False)))


def balanced(data: Labelled, per_class: int, seed: int) -> Labelled:
    """Up to ``per_class`` seeded random rows of each label, in their original order."""
    rng = np.random.default_rng(seed)
    picked = []
    for label in range(len(LABELS)):
        rows = np.flatnonzero(data.labels == label)
        picked.append(rng.choice(rows, size=min(per_class, len(rows)), replace=False))
    return data.take(np.sort(np.concatenate(picked)))
