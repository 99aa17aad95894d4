"""The model-health window: figures over the last N scored posts (pure).

The consumer adds each written batch's posts, in batch order (``consumers.model_health``),
and keeps running sums, so a batch costs O(its posts), whatever the window's size. The
window counts posts, not minutes: a count is deterministic from the data (a replay gives
the same figures at the same post) and a quiet feed keeps a meaningful sample.

Per window: the label mix the model gave, mean confidence, the share of posts less sure
than ``low_confidence``, the share a cascade escalated to its accurate model (None when
no post came from a cascade), mean length, length mix, unknown-token and fragmented-word
shares (``sentimon.wordpieces``), and, against the model's reference profile
(``sentimon.drift``), the PSI of the label mix and of the length mix.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from sentimon.drift import LABELS, FeedCounts, ReferenceProfile, length_bin
from sentimon.wordpieces import PieceCounts, WordPieceCounter

_LABEL_IDS = {name: i for i, name in enumerate(LABELS)}


@dataclass(frozen=True)
class Observation:
    """What the window keeps of one post."""

    label: int
    chars: int
    confidence: float | None = None
    escalated: bool | None = None
    pieces: PieceCounts | None = None

    @classmethod
    def of(
        cls,
        label: str,
        text: str,
        confidence: float | None = None,
        escalated: bool | None = None,
        counter: WordPieceCounter | None = None,
    ) -> Observation:
        pieces = counter.count(text) if counter is not None else None
        return cls(_LABEL_IDS.get(label, 1), len(text), confidence, escalated, pieces)


@dataclass
class WindowCounts(FeedCounts):
    """``FeedCounts`` plus what only a scored feed has (confidence, escalations)."""

    confident: int = 0
    confidence_sum: float = 0.0
    low: int = 0
    cascaded: int = 0
    escalated: int = 0
    measured: int = 0

    def add(self, o: Observation, low_confidence: float, sign: int = 1) -> None:
        self.posts += sign
        self.labels[o.label] += sign
        self.lengths[length_bin(o.chars)] += sign
        self.chars += sign * o.chars
        if o.confidence is not None:
            self.confident += sign
            self.confidence_sum += sign * o.confidence
            self.low += sign * (o.confidence < low_confidence)
        if o.escalated is not None:
            self.cascaded += sign
            self.escalated += sign * o.escalated
        if o.pieces is not None:
            self.measured += sign
            self.tokens += sign * o.pieces.tokens
            self.unknown += sign * o.pieces.unknown
            self.words += sign * o.pieces.words
            self.fragmented += sign * o.pieces.fragmented

    def clone(self) -> WindowCounts:
        base = self.copy()
        return WindowCounts(
            **vars(base), confident=self.confident, confidence_sum=self.confidence_sum,
            low=self.low, cascaded=self.cascaded, escalated=self.escalated,
            measured=self.measured,
        )  # fmt: skip


@dataclass(frozen=True)
class HealthSnapshot:
    """The window's figures at one moment (shares in [0, 1]; None: not measured)."""

    posts: int
    label_mix: tuple[float, ...]
    mean_confidence: float | None
    low_confidence_share: float | None
    escalation_share: float | None
    mean_chars: float
    unknown_share: float | None
    fragmented_share: float | None
    psi_label: float | None
    psi_length: float | None
    low_confidence: float
    reference: ReferenceProfile | None = None

    @property
    def psi_max(self) -> float | None:
        found = [v for v in (self.psi_label, self.psi_length) if v is not None]
        return max(found) if found else None


class HealthWindow:
    """The last ``size`` posts' observations and their running sums."""

    def __init__(
        self, size: int, *, low_confidence: float, reference: ReferenceProfile | None = None
    ) -> None:
        if size < 1:
            raise ValueError("the health window needs room for at least one post")
        self.size = size
        self.low_confidence = low_confidence
        self.reference = reference
        self._items: deque[Observation] = deque()
        self.counts = WindowCounts()

    def preview(self, added: Iterable[Observation]) -> WindowCounts:
        """The sums the window would have with ``added`` appended (nothing changes)."""
        new = list(added)[-self.size :]
        counts = self.counts.clone()
        for o in new:
            counts.add(o, self.low_confidence)
        overflow = max(0, len(self._items) + len(new) - self.size)
        for o in islice(self._items, overflow):
            counts.add(o, self.low_confidence, -1)
        return counts

    def extend(self, added: Iterable[Observation]) -> None:
        """Append ``added``, dropping the oldest beyond ``size``."""
        for o in added:
            self._items.append(o)
            self.counts.add(o, self.low_confidence)
            if len(self._items) > self.size:
                self.counts.add(self._items.popleft(), self.low_confidence, -1)

    def snapshot(self, counts: WindowCounts | None = None) -> HealthSnapshot:
        """The figures of ``counts`` (default: the window's own)."""
        c = counts if counts is not None else self.counts
        ref = self.reference if c.posts else None
        return HealthSnapshot(
            posts=c.posts,
            label_mix=c.label_mix,
            mean_confidence=c.confidence_sum / c.confident if c.confident else None,
            low_confidence_share=c.low / c.confident if c.confident else None,
            escalation_share=c.escalated / c.cascaded if c.cascaded else None,
            mean_chars=c.mean_chars,
            unknown_share=c.unknown_share if c.measured else None,
            fragmented_share=c.fragmented_share if c.measured else None,
            psi_label=ref.label_psi(c) if ref is not None else None,
            psi_length=ref.length_psi(c) if ref is not None else None,
            low_confidence=self.low_confidence,
            reference=self.reference,
        )


def summary_fields(health: HealthSnapshot) -> dict[str, str]:
    """The snapshot as the compact Redis summary's fields (``sentimon.keys.Keys.model_health``;
    an empty string: not measured)."""
    ref = health.reference
    out = {
        "posts": health.posts,
        **{f"label_{name}": share for name, share in zip(LABELS, health.label_mix, strict=True)},
        "mean_confidence": health.mean_confidence,
        "low_confidence_share": health.low_confidence_share,
        "low_confidence": health.low_confidence,
        "escalation_share": health.escalation_share,
        "mean_chars": health.mean_chars,
        "unknown_share": health.unknown_share,
        "fragmented_share": health.fragmented_share,
        "psi_label": health.psi_label,
        "psi_length": health.psi_length,
        "reference": int(ref is not None),
    }
    if ref is not None:
        out |= {
            **{f"ref_label_{n}": s for n, s in zip(LABELS, ref.label_mix, strict=True)},
            "ref_mean_chars": ref.mean_chars,
            "ref_unknown_share": ref.unknown_share,
            "ref_fragmented_share": ref.fragmented_share,
            "ref_posts": ref.posts,
        }
    return {k: "" if v is None else _text(v) for k, v in out.items()}


def _text(value: float | int) -> str:
    return str(value) if isinstance(value, int) else f"{value:.6g}"
