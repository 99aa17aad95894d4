"""Classification metrics over canonical label ids: accuracy, macro-F1, per-class P/R/F1."""

from __future__ import annotations

from typing import Any

import numpy as np

from inference.scorer import LABELS


def confusion(truth: np.ndarray, pred: np.ndarray, k: int = len(LABELS)) -> np.ndarray:
    """``m[i, j]`` = number of rows with true label i predicted as j."""
    m = np.zeros((k, k), dtype=np.int64)
    np.add.at(m, (np.asarray(truth, np.int64), np.asarray(pred, np.int64)), 1)
    return m


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.divide(num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0)


def per_class(m: np.ndarray) -> dict[str, dict[str, float]]:
    tp = np.diag(m).astype(np.float64)
    precision = _ratio(tp, m.sum(axis=0).astype(np.float64))
    recall = _ratio(tp, m.sum(axis=1).astype(np.float64))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(m[i].sum()),
        }
        for i, name in enumerate(LABELS)
    }


def macro_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    """Unweighted mean F1 over the classes present in ``truth`` or ``pred``."""
    m = confusion(truth, pred)
    present = (m.sum(axis=0) + m.sum(axis=1)) > 0
    scores = per_class(m)
    f1 = np.array([scores[name]["f1"] for name in LABELS])
    return float(f1[present].mean()) if present.any() else 0.0


def accuracy(truth: np.ndarray, pred: np.ndarray) -> float:
    return float((np.asarray(truth) == np.asarray(pred)).mean()) if len(truth) else 0.0


def report(truth: np.ndarray, pred: np.ndarray) -> dict[str, Any]:
    """Everything ``sentimon model eval`` prints, as plain JSON-able data."""
    m = confusion(truth, pred)
    return {
        "n": len(truth),
        "accuracy": accuracy(truth, pred),
        "macro_f1": macro_f1(truth, pred),
        "per_class": per_class(m),
        "confusion_matrix": {
            "labels": list(LABELS),
            "rows_true_cols_pred": m.tolist(),
        },
    }
