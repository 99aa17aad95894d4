"""Why a post scored as it did: word attributions, on demand (never in the consumer's path).

A *word* is a run of non-space characters holding at least one letter or digit (``$AAPL``,
``beats,``, ``-3.5%``); a dash or bullet standing alone is not one. Each word gets two
weights: how much it raises the probability of the post's predicted label, and how much it
raises the score ``P(positive) - P(negative)`` (negative: it pulls the score down).

The default method is occlusion on the served model: the post and every copy of it with
one word removed go through ``Scorer.score`` in one batched call, and a word's weight is
what its removal takes away. It works on any backend (ONNX int8 included) and costs one
model call of ``words + 1`` short texts. ``inference.gradients`` has the alternative
(integrated gradients on the torch model); docs/MODEL.md ("Why this score") compares them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from inference.cascade import CascadeScorer
from inference.scorer import LABELS, Scorer

#: A word: non-space characters with at least one letter or digit among them.
WORD = re.compile(r"\S*\w\S*")
#: Words explained per post; later ones keep weight 0 (the model truncates long posts too).
MAX_WORDS = 96


@dataclass(frozen=True)
class WordWeight:
    """One word of the text (``text[start:end]``) and its two weights."""

    start: int
    end: int
    word: str
    #: what the word adds to the probability of the predicted label
    label_weight: float
    #: what the word adds to the score P(positive) - P(negative)
    score_weight: float

    def as_json(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "start": self.start,
            "end": self.end,
            "label_weight": round(self.label_weight, 4),
            "score_weight": round(self.score_weight, 4),
        }


@dataclass(frozen=True)
class Explanation:
    """The words of ``text`` with their weights, and what the model said of the whole."""

    text: str
    label: str
    #: P(label) for the whole text
    confidence: float
    #: P(positive) - P(negative) for the whole text
    base_score: float
    words: tuple[WordWeight, ...]
    method: str
    model_id: str

    def top(self, n: int = 5) -> list[WordWeight]:
        """The ``n`` words that move the score most, either way, strongest first."""
        ranked = sorted(self.words, key=lambda w: (-abs(w.score_weight), w.start))
        return [w for w in ranked[:n] if w.score_weight != 0.0]

    def pieces(self) -> list[tuple[str, WordWeight | None]]:
        """The whole text cut into words (with their weights) and what lies between them
        (None), in order: what a highlighter draws."""
        out: list[tuple[str, WordWeight | None]] = []
        cursor = 0
        for w in self.words:
            if w.start > cursor:
                out.append((self.text[cursor : w.start], None))
            out.append((self.text[w.start : w.end], w))
            cursor = w.end
        if cursor < len(self.text):
            out.append((self.text[cursor:], None))
        return out

    def strength(self, word: WordWeight) -> float:
        """The word's score weight against the strongest word's, in [-1, 1]."""
        peak = max((abs(w.score_weight) for w in self.words), default=0.0)
        return word.score_weight / peak if peak > 0 else 0.0

    def supporting(self, n: int) -> list[int]:
        """Indices of the ``n`` words that most raise P(label), strongest first."""
        order = np.argsort([-w.label_weight for w in self.words], kind="stable")
        return [int(i) for i in order[:n]]

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "model": self.model_id,
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "base_score": round(self.base_score, 4),
            "words": [w.as_json() for w in self.words],
        }


class Explainer(Protocol):
    """Anything that explains one text at a time."""

    method: str

    def explain(self, text: str) -> Explanation: ...


def word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every word of ``text``, in order."""
    return [m.span() for m in WORD.finditer(text)]


def without(text: str, spans: Sequence[tuple[int, int]], drop: set[int]) -> str:
    """``text`` with the words at indices ``drop`` removed (spaces collapsed)."""
    kept, cursor = [], 0
    for i, (start, end) in enumerate(spans):
        if i in drop:
            kept.append(text[cursor:start])
            cursor = end
    kept.append(text[cursor:])
    return " ".join("".join(kept).split())


def label_index(probs: np.ndarray) -> int:
    return int(np.argmax(probs))


def score_of(probs: np.ndarray) -> np.ndarray:
    """P(positive) - P(negative) of each row of canonical probabilities."""
    return np.asarray(probs[..., 2] - probs[..., 0])


def build(
    text: str,
    spans: Sequence[tuple[int, int]],
    base: np.ndarray,
    label_weights: np.ndarray,
    score_weights: np.ndarray,
    *,
    method: str,
    model_id: str,
) -> Explanation:
    """An Explanation from per-word weights (words past ``len(weights)`` get 0)."""
    n = len(label_weights)
    words = tuple(
        WordWeight(
            start,
            end,
            text[start:end],
            float(label_weights[i]) if i < n else 0.0,
            float(score_weights[i]) if i < n else 0.0,
        )
        for i, (start, end) in enumerate(spans)
    )
    label = label_index(base)
    return Explanation(
        text=text,
        label=LABELS[label],
        confidence=float(base[label]),
        base_score=float(score_of(base)),
        words=words,
        method=method,
        model_id=model_id,
    )


class Occlusion:
    """Leave-one-word-out on any ``Scorer``: one batched call per post."""

    method = "occlusion"

    def __init__(self, scorer: Scorer, max_words: int = MAX_WORDS) -> None:
        self.scorer = scorer
        self.max_words = max_words

    def explain(self, text: str) -> Explanation:
        scorer = self._model_of(text)
        spans = word_spans(text)
        shown = spans[: self.max_words]
        variants = [text] + [without(text, spans, {i}) for i in range(len(shown))]
        probs = scorer.score(variants).probs.astype(np.float64)
        base, removed = probs[0], probs[1:]
        label = label_index(base)
        return build(
            text,
            spans,
            base,
            base[label] - removed[:, label],
            score_of(base) - score_of(removed),
            method=self.method,
            model_id=scorer.model_id,
        )

    def _model_of(self, text: str) -> Scorer:
        """The one model that scored ``text``: in a cascade, the accurate model for a post
        it escalates, else the fast one (occluding through the cascade itself would mix
        the two models' probabilities)."""
        if not isinstance(self.scorer, CascadeScorer):
            return self.scorer
        escalated = self.scorer.score([text]).escalated
        return (
            self.scorer.teacher if escalated is not None and escalated[0] else self.scorer.student
        )


def explain(text: str, scorer: Scorer | None = None) -> Explanation:
    """Why ``text`` scores as it does on ``scorer`` (default: the configured model), by
    occlusion: the public API's one-call form."""
    if scorer is None:
        from inference.loader import load_scorer  # noqa: PLC0415 (heavy: loaded only when used)

        scorer = load_scorer()
    return Occlusion(scorer).explain(text)
