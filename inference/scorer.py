"""The scorer interface every backend implements.

A scorer takes a list of texts and returns, per text, the probabilities of
negative/neutral/positive in that canonical order, from which the label and
``score = P(positive) - P(negative)`` in [-1, 1] follow.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

#: Canonical label order of every probability row.
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class ScoreBatch:
    """Scores of a batch of texts: ``probs[i]`` is (P(neg), P(neu), P(pos)) of text i."""

    probs: np.ndarray
    model_id: str

    def __post_init__(self) -> None:
        if self.probs.ndim != 2 or self.probs.shape[1] != 3:
            raise ValueError(f"probs must have shape (n, 3), got {self.probs.shape}")

    def __len__(self) -> int:
        return int(self.probs.shape[0])

    @property
    def label_ids(self) -> np.ndarray:
        return np.asarray(self.probs.argmax(axis=1))

    @property
    def labels(self) -> list[str]:
        return [LABELS[i] for i in self.label_ids.tolist()]

    @property
    def scores(self) -> np.ndarray:
        return np.clip(self.probs[:, 2] - self.probs[:, 0], -1.0, 1.0)


@runtime_checkable
class Scorer(Protocol):
    """Anything that scores texts. ``model_id`` names model and version for tracing."""

    @property
    def model_id(self) -> str: ...

    def score(self, texts: Sequence[str]) -> ScoreBatch: ...


def concurrency_of(scorer: Scorer) -> int:
    """How many batches may be scored at once (a scorer's optional ``concurrency``)."""
    return max(1, int(getattr(scorer, "concurrency", 1)))


def warm_up(scorer: Scorer, batch: int) -> float:
    """Score synthetic batches of short to long texts (alone and, where the scorer runs
    several at once, concurrently) so session arenas and kernels are ready before real
    traffic; returns the seconds it took."""

    words = ("shares", "rally", "after", "earnings", "beat", "guidance", "cut", "$ACME")
    texts = [" ".join(words[j % len(words)] for j in range(4 + (i * 7) % 60)) for i in range(batch)]
    started = time.perf_counter()
    scorer.score(texts)
    workers = concurrency_of(scorer)
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(scorer.score, [texts] * workers))
    return time.perf_counter() - started
