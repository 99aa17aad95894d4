"""The deletion test: do the words an explanation ranks highest matter more than any words?

For each explained post, remove its ``k`` words that most raise P(label) (the
explanation's top words) and, separately, ``k`` words drawn at random (``draws`` times,
averaged). The post passes when removing the top words lowers the probability of the
label the model gave the whole post by more than removing random words does. ``k`` is 1, 2
or 3 words, or ``20%`` of the post's words (rounded up); posts with no more than ``k``
words are skipped (every removal would be the same). All removals of all posts go through
``Scorer.score`` in one call per chunk.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from inference.explain import Explanation, without
from inference.scorer import LABELS, Scorer

#: The ``k`` rules the benchmark reports; ``20%`` is the headline one.
K_RULES = ("1", "2", "3", "20%")
DRAWS = 10
_CHUNK = 256


@dataclass(frozen=True)
class DeletionResult:
    """How often the top words beat random ones, over the posts that could be tested."""

    k_rule: str
    posts: int
    skipped: int
    passed: int
    #: mean drop of P(label) when the top words go, and when random words go
    top_drop: float
    random_drop: float

    @property
    def fraction(self) -> float:
        return self.passed / self.posts if self.posts else 0.0

    def as_json(self) -> dict[str, float | int | str]:
        return {
            "k": self.k_rule,
            "posts": self.posts,
            "skipped": self.skipped,
            "passed": self.passed,
            "fraction": round(self.fraction, 4),
            "mean_top_drop": round(self.top_drop, 4),
            "mean_random_drop": round(self.random_drop, 4),
        }


def k_for(rule: str, words: int) -> int:
    """Words removed from a post of ``words`` words under ``rule`` (``"2"``, ``"20%"``)."""
    if rule.endswith("%"):
        return max(1, math.ceil(words * float(rule[:-1]) / 100))
    return int(rule)


def deletion_test(
    scorer: Scorer,
    explanations: Sequence[Explanation],
    k_rule: str = "20%",
    *,
    draws: int = DRAWS,
    seed: int = 0,
) -> DeletionResult:
    """Run the deletion test of ``explanations`` on ``scorer`` (the model they explain)."""
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    plan: list[tuple[int, int]] = []  # per tested post: its first row and its label
    for ex in explanations:
        n = len(ex.words)
        k = k_for(k_rule, n)
        if n <= k:
            continue
        spans = [(w.start, w.end) for w in ex.words]
        plan.append((len(texts), LABELS.index(ex.label)))
        texts.append(ex.text)
        texts.append(without(ex.text, spans, set(ex.supporting(k))))
        for _ in range(draws):
            texts.append(without(ex.text, spans, set(rng.choice(n, k, replace=False).tolist())))
    probs = _score_all(scorer, texts)
    top_drops, random_drops = [], []
    for row, label in plan:
        base = probs[row, label]
        top_drops.append(base - probs[row + 1, label])
        random_drops.append(float(np.mean(base - probs[row + 2 : row + 2 + draws, label])))
    passed = sum(t > r for t, r in zip(top_drops, random_drops, strict=True))
    return DeletionResult(
        k_rule,
        len(plan),
        len(explanations) - len(plan),
        int(passed),
        float(np.mean(top_drops)) if plan else 0.0,
        float(np.mean(random_drops)) if plan else 0.0,
    )


def _score_all(scorer: Scorer, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, 3))
    parts = [scorer.score(texts[i : i + _CHUNK]).probs for i in range(0, len(texts), _CHUNK)]
    return np.concatenate(parts).astype(np.float64)
