"""Does the feed still look like the model's training data? Profiles and PSI (pure).

A *profile* summarises texts the model scored: the mix of labels it gave, the mix of text
lengths (characters, in the fixed bins ``LENGTH_EDGES``), the mean length, and how a
WordPiece vocabulary cuts them (``sentimon.wordpieces``: unknown-token share, share of
words cut into 3+ pieces). The model's *reference profile* is that of its training texts,
stored beside it as ``reference.json`` (``inference.profile``); the consumer keeps the
same counts over its last posts (``sentimon.health_window``) and compares.

Population stability index, per distribution (label mix, length mix)::

    PSI = sum over bins i of (a_i - e_i) * ln(a_i / e_i)

with ``a`` the live shares, ``e`` the reference shares, each share floored at
``EPSILON`` (1e-4) so an empty bin costs a bounded amount instead of infinity. The usual
reading: below 0.1 no real shift, 0.1-0.25 a moderate shift worth a look, above 0.25 a
major shift (the model is scoring a different population than it was trained on).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sentimon.errors import ConfigError

#: Label order of every mix (the scorer's canonical order).
LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
#: Upper edges (characters, exclusive) of the length bins; the last bin is open.
LENGTH_EDGES: tuple[int, ...] = (32, 64, 96, 128, 192, 256, 384, 512, 1024)
LENGTH_BINS = len(LENGTH_EDGES) + 1
EPSILON = 1e-4
#: The usual PSI reading: below the first no shift, above the second a major one.
PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
PROFILE_VERSION = 1


def length_bin(chars: int) -> int:
    """The length bin of a text of ``chars`` characters."""
    return bisect_right(LENGTH_EDGES, chars)


def shares(counts: Sequence[float]) -> tuple[float, ...]:
    """``counts`` as shares of their sum (all 0 when the sum is 0)."""
    total = float(sum(counts))
    return tuple(c / total if total else 0.0 for c in counts)


def psi(actual: Sequence[float], expected: Sequence[float], epsilon: float = EPSILON) -> float:
    """Population stability index of two share vectors of equal length (module doc)."""
    if len(actual) != len(expected):
        raise ValueError(f"PSI needs equal bins, got {len(actual)} and {len(expected)}")
    total = 0.0
    for a, e in zip(actual, expected, strict=True):
        a, e = max(a, epsilon), max(e, epsilon)
        total += (a - e) * math.log(a / e)
    return total


def psi_band(value: float | None) -> str:
    """``none`` / ``moderate`` / ``major`` for a PSI value (``n/a`` when not measured)."""
    if value is None:
        return "n/a"
    return "major" if value >= PSI_MAJOR else "moderate" if value >= PSI_MODERATE else "none"


@dataclass
class FeedCounts:
    """Running sums over posts; the health window adds and removes posts one by one."""

    posts: int = 0
    labels: list[int] = field(default_factory=lambda: [0, 0, 0])
    lengths: list[int] = field(default_factory=lambda: [0] * LENGTH_BINS)
    chars: int = 0
    tokens: int = 0
    unknown: int = 0
    words: int = 0
    fragmented: int = 0

    def copy(self) -> FeedCounts:
        return FeedCounts(
            self.posts, list(self.labels), list(self.lengths), self.chars, self.tokens,
            self.unknown, self.words, self.fragmented,
        )  # fmt: skip

    @property
    def label_mix(self) -> tuple[float, ...]:
        return shares(self.labels)

    @property
    def length_mix(self) -> tuple[float, ...]:
        return shares(self.lengths)

    @property
    def mean_chars(self) -> float:
        return self.chars / self.posts if self.posts else 0.0

    @property
    def unknown_share(self) -> float:
        return self.unknown / self.tokens if self.tokens else 0.0

    @property
    def fragmented_share(self) -> float:
        return self.fragmented / self.words if self.words else 0.0


@dataclass(frozen=True)
class ReferenceProfile:
    """A model's reference profile (what ``reference.json`` holds)."""

    posts: int
    label_mix: tuple[float, ...]
    length_mix: tuple[float, ...]
    mean_chars: float
    unknown_share: float
    fragmented_share: float
    #: The same two shares measured with the real tokenizer (for comparison only).
    tokenizer_unknown_share: float | None = None
    tokenizer_fragmented_share: float | None = None
    lowercase: bool = True

    @classmethod
    def of(cls, counts: FeedCounts, **extra: Any) -> ReferenceProfile:
        return cls(
            counts.posts,
            counts.label_mix,
            counts.length_mix,
            counts.mean_chars,
            counts.unknown_share,
            counts.fragmented_share,
            **extra,
        )

    def label_psi(self, counts: FeedCounts) -> float:
        return psi(counts.label_mix, self.label_mix)

    def length_psi(self, counts: FeedCounts) -> float:
        return psi(counts.length_mix, self.length_mix)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": PROFILE_VERSION,
            "posts": self.posts,
            "labels": dict(zip(LABELS, _r(self.label_mix), strict=True)),
            "length_edges": list(LENGTH_EDGES),
            "length_mix": _r(self.length_mix),
            "mean_chars": round(self.mean_chars, 3),
            "unknown_share": round(self.unknown_share, 6),
            "fragmented_share": round(self.fragmented_share, 6),
            "tokenizer_unknown_share": _opt(self.tokenizer_unknown_share),
            "tokenizer_fragmented_share": _opt(self.tokenizer_fragmented_share),
            "lowercase": self.lowercase,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str) -> ReferenceProfile:
        """Read ``as_dict``'s output; ConfigError naming ``source`` and the field."""
        try:
            if data.get("version") != PROFILE_VERSION:
                raise ValueError(f"version: expected {PROFILE_VERSION}, got {data.get('version')}")
            if list(data["length_edges"]) != list(LENGTH_EDGES):
                raise ValueError("length_edges: written with other length bins")
            labels = data["labels"]
            return cls(
                posts=int(data["posts"]),
                label_mix=tuple(float(labels[name]) for name in LABELS),
                length_mix=_floats(data["length_mix"], LENGTH_BINS, "length_mix"),
                mean_chars=float(data["mean_chars"]),
                unknown_share=float(data["unknown_share"]),
                fragmented_share=float(data["fragmented_share"]),
                tokenizer_unknown_share=_float_or_none(data.get("tokenizer_unknown_share")),
                tokenizer_fragmented_share=_float_or_none(data.get("tokenizer_fragmented_share")),
                lowercase=bool(data.get("lowercase", True)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"reference profile {source}: bad or missing field {exc}; rewrite it with "
                "`sentimon model profile --model DIR --data CSV`"
            ) from None


def _floats(values: Any, n: int, name: str) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if len(out) != n:
        raise ValueError(f"{name}: expected {n} values, got {len(out)}")
    return out


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _r(values: Sequence[float]) -> list[float]:
    return [round(v, 6) for v in values]
