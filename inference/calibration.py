"""Calibrated confidence: temperature scaling with a per-class bias, stored with the model.

A fine-tuned classifier's probabilities are too sure of themselves (Guo et al. 2017,
"On Calibration of Modern Neural Networks"). ``fit`` learns, on a slice of the training
data the model never trained on, one temperature ``T`` and a bias per class ``b`` that
minimise the negative log-likelihood of ``softmax(log p / T + b)``; ``apply`` maps a
batch's probabilities through them. ``decision`` offsets, fitted separately for macro-F1,
only move the label (never the probabilities), so every post's ``confidence`` stays the
calibrated probability of the label it was given.

The fitted values live in ``<model>/calibration.json`` beside the weights;
``CalibratedScorer`` applies them to any ``Scorer``. The file also keeps quantiles of the
held-out confidence, so a cascade can turn "escalate 15 % of posts" into a threshold.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.scorer import ScoreBatch, Scorer, decide_labels
from sentimon.errors import ModelError

log = logging.getLogger(__name__)

CALIBRATION_FILE = "calibration.json"
_EPS = 1e-7
#: Bins of the expected calibration error (equal width over [0, 1]).
ECE_BINS = 15
#: Offsets the macro-F1 search tries for the negative and positive classes.
_OFFSET_GRID = np.round(np.arange(-1.0, 1.0001, 0.05), 2)


@dataclass(frozen=True)
class Calibration:
    """How a model's probabilities are calibrated and its labels decided."""

    temperature: float = 1.0
    bias: tuple[float, float, float] = (0.0, 0.0, 0.0)
    decision: tuple[float, float, float] = (0.0, 0.0, 0.0)
    #: Held-out confidence at quantiles 0, 0.01, ..., 1 (after calibration).
    confidence_quantiles: tuple[float, ...] = ()
    #: What it was fitted on and how much it helped there.
    fitted: dict[str, Any] = field(default_factory=dict)

    def apply(self, probs: np.ndarray) -> np.ndarray:
        logits = np.log(np.clip(np.asarray(probs, dtype=np.float64), _EPS, 1.0))
        return softmax(logits / self.temperature + np.asarray(self.bias)).astype(np.float32)

    def threshold_for_share(self, share: float) -> float:
        """The confidence below which ``share`` of held-out posts fell."""
        if not self.confidence_quantiles:
            raise ModelError(
                "this model's calibration.json has no confidence quantiles: rebuild it with "
                "`make model`, or set SENTIMON_CASCADE_THRESHOLD"
            )
        grid = np.linspace(0.0, 1.0, len(self.confidence_quantiles))
        return float(np.interp(min(max(share, 0.0), 1.0), grid, self.confidence_quantiles))

    def save(self, model_dir: Path) -> Path:
        path = Path(model_dir) / CALIBRATION_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path


def load_calibration(model_dir: Path | None) -> Calibration | None:
    """The calibration stored with a model, or None when it has none."""
    if model_dir is None or not (Path(model_dir) / CALIBRATION_FILE).is_file():
        return None
    path = Path(model_dir) / CALIBRATION_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Calibration(
            temperature=float(raw["temperature"]),
            bias=_triple(raw.get("bias", (0.0, 0.0, 0.0))),
            decision=_triple(raw.get("decision", (0.0, 0.0, 0.0))),
            confidence_quantiles=tuple(float(q) for q in raw.get("confidence_quantiles", ())),
            fitted=dict(raw.get("fitted", {})),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelError(
            f"{path}: cannot read the calibration ({exc}); rebuild the model or delete the file"
        ) from exc


def _triple(values: Sequence[float]) -> tuple[float, float, float]:
    a, b, c = (float(v) for v in values)
    return (a, b, c)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def label_confidence(probs: np.ndarray, label_ids: np.ndarray) -> np.ndarray:
    return np.asarray(probs[np.arange(len(label_ids)), label_ids])


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> float:
    """ECE: the bin-weighted gap between confidence and accuracy (equal-width bins)."""
    rows = reliability(confidence, correct, bins)
    n = max(1, len(confidence))
    return float(sum(r["n"] * abs(r["accuracy"] - r["confidence"]) for r in rows) / n)


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS
) -> list[dict[str, float]]:
    """Per non-empty bin: its range, size, mean confidence and accuracy."""
    conf = np.asarray(confidence, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            rows.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "n": int(mask.sum()),
                    "confidence": float(conf[mask].mean()),
                    "accuracy": float(hit[mask].mean()),
                }
            )
    return rows


def fit(probs: np.ndarray, labels: np.ndarray, *, source: str = "") -> Calibration:
    """Temperature and bias by NLL, then decision offsets by macro-F1, on held-out rows."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    logits = np.log(np.clip(probs, _EPS, 1.0))
    temperature, bias = _fit_scaling(logits, labels)
    scaled = Calibration(temperature, bias)
    calibrated = scaled.apply(probs)
    decision = _fit_decision(calibrated, labels)
    ids = decide_labels(calibrated, decision)
    conf = label_confidence(calibrated, ids)
    raw_ids = probs.argmax(axis=1)
    fitted = {
        "source": source,
        "n": len(labels),
        "nll_before": _nll(logits, labels),
        "nll_after": _nll(np.log(np.clip(calibrated, _EPS, 1.0)), labels),
        "ece_before": expected_calibration_error(
            label_confidence(probs, raw_ids), raw_ids == labels
        ),
        "ece_after": expected_calibration_error(conf, ids == labels),
        "macro_f1_before": macro_f1(labels, raw_ids),
        "macro_f1_after": macro_f1(labels, ids),
    }
    quantiles = tuple(float(q) for q in np.quantile(conf, np.linspace(0.0, 1.0, 101)))
    log.info("calibration on %s: %s", source or "held-out rows", fitted)
    return Calibration(temperature, bias, decision, quantiles, fitted)


def _nll(logits: np.ndarray, labels: np.ndarray) -> float:
    p = softmax(logits)
    return float(-np.log(np.clip(p[np.arange(len(labels)), labels], _EPS, 1.0)).mean())


def _fit_scaling(
    logits: np.ndarray, labels: np.ndarray
) -> tuple[float, tuple[float, float, float]]:
    # scipy only fits (at build time); serving never imports it
    from scipy.optimize import minimize  # noqa: PLC0415

    def loss(x: np.ndarray) -> float:
        t = float(np.exp(x[0]))
        return _nll(logits / t + np.array([x[1], 0.0, x[2]]), labels)

    best = minimize(loss, np.zeros(3), method="Nelder-Mead", options={"xatol": 1e-4})
    t = float(np.exp(best.x[0]))
    return round(t, 6), (round(float(best.x[1]), 6), 0.0, round(float(best.x[2]), 6))


#: Decision offsets are kept only when, fitted on one half of the held-out rows, they raise
#: the other half's macro-F1 by at least this much on average (two-fold cross-validation).
MIN_DECISION_GAIN = 0.002


def _fit_decision(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """Decision offsets for macro-F1, or none when they do not carry over between halves
    of the held-out rows (a grid search fits noise on a few hundred rows)."""
    halves = [np.arange(len(labels)) % 2 == k for k in (0, 1)]
    gains = []
    for fit_rows, test_rows in (halves, halves[::-1]):
        half_offsets: tuple[float, float, float] = _grid_decision(probs[fit_rows], labels[fit_rows])
        held_probs, held_labels = probs[test_rows], labels[test_rows]
        gains.append(
            macro_f1(held_labels, decide_labels(held_probs, half_offsets))
            - macro_f1(held_labels, held_probs.argmax(axis=1))
        )
    if float(np.mean(gains)) < MIN_DECISION_GAIN:
        log.info("decision offsets dropped: cross-validated macro-F1 gain %s", gains)
        return (0.0, 0.0, 0.0)
    return _grid_decision(probs, labels)


def _grid_decision(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float, float]:
    """Offsets on the negative and positive log-probabilities that maximise macro-F1 (a
    grid search; ties keep the offset nearest zero)."""
    logits = np.log(np.clip(probs, _EPS, 1.0))
    best = (macro_f1(labels, logits.argmax(axis=1)), 0.0, 0.0, 0.0)
    for neg in _OFFSET_GRID:
        for pos in _OFFSET_GRID:
            ids = (logits + np.array([neg, 0.0, pos])).argmax(axis=1)
            f1 = macro_f1(labels, ids)
            size = abs(neg) + abs(pos)
            if f1 > best[0] + 1e-9 or (abs(f1 - best[0]) <= 1e-9 and size < best[3]):
                best = (f1, float(neg), float(pos), size)
    return (best[1], 0.0, best[2])


def macro_f1(labels: np.ndarray, predicted: np.ndarray, classes: int = 3) -> float:
    scores = []
    for c in range(classes):
        tp = float(((predicted == c) & (labels == c)).sum())
        fp = float(((predicted == c) & (labels != c)).sum())
        fn = float(((predicted != c) & (labels == c)).sum())
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


class CalibratedScorer:
    """A ``Scorer`` whose probabilities and labels go through a model's ``Calibration``."""

    def __init__(self, inner: Scorer, calibration: Calibration) -> None:
        self.inner = inner
        self.calibration = calibration
        self.concurrency = int(getattr(inner, "concurrency", 1))

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def score(self, texts: Sequence[str]) -> ScoreBatch:
        batch = self.inner.score(texts)
        probs = self.calibration.apply(batch.probs)
        return ScoreBatch(
            probs=probs,
            model_id=batch.model_id,
            row_models=batch.row_models,
            escalated=batch.escalated,
            decided=decide_labels(probs, self.calibration.decision),
        )

    def __getattr__(self, name: str) -> Any:
        # tokenizer, max_length ... of the wrapped scorer (benchmarks and explanations)
        return getattr(self.inner, name)
