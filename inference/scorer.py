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
    #: Per row, the model that scored it, where a scorer mixes models (the cascade); None:
    #: every row is ``model_id``'s.
    row_models: tuple[str, ...] | None = None
    #: Per row, whether a cascade re-scored it with its accurate model; None: no cascade.
    escalated: np.ndarray | None = None
    #: Per row, the label id a model's decision rule gave it (``inference.calibration``
    #: may pick a label other than the most probable one); None: the most probable label.
    decided: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.probs.ndim != 2 or self.probs.shape[1] != 3:
            raise ValueError(f"probs must have shape (n, 3), got {self.probs.shape}")
        rows = self.probs.shape[0]
        if self.row_models is not None and len(self.row_models) != rows:
            raise ValueError("row_models must name one model per row")
        if self.decided is not None and len(self.decided) != rows:
            raise ValueError("decided must give one label per row")

    def model_of(self, row: int) -> str:
        """The id of the model that scored ``row``."""
        return self.model_id if self.row_models is None else self.row_models[row]

    @property
    def confidence(self) -> np.ndarray:
        """Per row, the probability of its label (calibrated where the scorer is)."""
        return np.asarray(self.probs[np.arange(len(self)), self.label_ids])

    def __len__(self) -> int:
        return int(self.probs.shape[0])

    @property
    def label_ids(self) -> np.ndarray:
        if self.decided is not None:
            return np.asarray(self.decided)
        return np.asarray(self.probs.argmax(axis=1))

    @property
    def labels(self) -> list[str]:
        return [LABELS[i] for i in self.label_ids.tolist()]

    @property
    def scores(self) -> np.ndarray:
        return np.clip(self.probs[:, 2] - self.probs[:, 0], -1.0, 1.0)


def decide_labels(probs: np.ndarray, decision: Sequence[float] | None = None) -> np.ndarray:
    """Label ids: the most probable class after adding ``decision`` to the log-probabilities."""
    if decision is None or not any(decision):
        return np.asarray(probs.argmax(axis=1))
    logits = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1.0))
    return np.asarray((logits + np.asarray(decision, dtype=np.float64)).argmax(axis=1))


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
