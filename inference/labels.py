"""Mapping a model's own output labels onto the canonical negative/neutral/positive order.

Models name their outputs in many ways: ``negative/neutral/positive``, ``bearish/bullish``,
``NEG/NEU/POS`` or just ``LABEL_0..``. :func:`label_matrix` turns a model's ``id2label``
(optionally overridden by an explicit mapping) into a 0/1 matrix ``M`` of shape
``(num_model_labels, 3)`` so that ``canonical_probs = model_probs @ M``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from inference.scorer import LABELS
from sentimon.errors import ConfigError, ModelError

#: Every accepted spelling (lower case) of each canonical label.
SYNONYMS: dict[str, str] = {
    "negative": "negative",
    "neg": "negative",
    "bearish": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
    "bullish": "positive",
}

#: Integer labels of the twitter-financial-news data set: 0 bearish, 1 bullish, 2 neutral.
TWITTER_FINANCIAL_NEWS_MAP: dict[str, str] = {"0": "negative", "1": "positive", "2": "neutral"}

_HINT = "pass an explicit mapping, e.g. --label-map 0=negative,1=neutral,2=positive " + (
    'or SENTIMON_LABEL_MAP=\'{"0": "negative", "1": "neutral", "2": "positive"}\''
)


def canonical_name(name: str) -> str | None:
    """The canonical label a spelling stands for, or None when it is not a sentiment name."""
    return SYNONYMS.get(str(name).strip().lower())


def parse_label_map(spec: str) -> dict[str, str]:
    """Parse ``0=negative,1=positive,2=neutral`` into ``{"0": "negative", ...}``."""
    out: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(
                f"bad --label-map entry {part!r}: expected KEY=LABEL, e.g. 0=negative"
            )
        target = canonical_name(value)
        if target is None:
            raise ConfigError(f"--label-map: {value.strip()!r} is not one of {', '.join(LABELS)}")
        out[key.strip()] = target
    return out


def _lookup(explicit: Mapping[str, str], index: int, name: str) -> str | None:
    """The canonical label for model output ``index`` named ``name``."""
    lowered = {str(k).strip().lower(): v for k, v in explicit.items()}
    for key in (str(index), name.strip().lower()):
        if key in lowered:
            target = canonical_name(lowered[key])
            if target is None:
                raise ModelError(f"label map sends {key!r} to {lowered[key]!r}, not a sentiment")
            return target
    return canonical_name(name)


def resolve_labels(
    id2label: Mapping[int, str], explicit: Mapping[str, str] | None = None
) -> list[str]:
    """Canonical label of each model output, in output order; ModelError if any is unknown."""
    explicit = explicit or {}
    ordered = sorted((int(k), str(v)) for k, v in id2label.items())
    if [i for i, _ in ordered] != list(range(len(ordered))):
        raise ModelError(f"model id2label {dict(id2label)} is not numbered 0..n-1")
    names = [name for _, name in ordered]
    resolved = [_lookup(explicit, i, name) for i, name in enumerate(names)]
    unknown = [name for name, target in zip(names, resolved, strict=True) if target is None]
    if unknown:
        raise ModelError(
            f"cannot map model labels {names} onto {list(LABELS)} ({', '.join(unknown)} "
            f"unknown): {_HINT}"
        )
    targets = [t for t in resolved if t is not None]
    if len(set(targets)) != len(targets):
        raise ModelError(f"model labels {names} map onto {targets}, with duplicates: {_HINT}")
    if "negative" not in targets or "positive" not in targets:
        raise ModelError(f"model labels {names} lack a negative or a positive class: {_HINT}")
    return targets


def label_matrix(
    id2label: Mapping[int, str], explicit: Mapping[str, str] | None = None
) -> np.ndarray:
    """0/1 matrix (num_model_labels, 3): model probabilities @ matrix = canonical order."""
    targets = resolve_labels(id2label, explicit)
    matrix = np.zeros((len(targets), len(LABELS)), dtype=np.float32)
    for row, target in enumerate(targets):
        matrix[row, LABELS.index(target)] = 1.0
    return matrix


def canonical_id2label() -> dict[int, str]:
    """The ``id2label`` every model trained here gets: canonical order."""
    return dict(enumerate(LABELS))
