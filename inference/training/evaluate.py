"""Evaluate a scorer on a labelled set: quality metrics and measured throughput."""

from __future__ import annotations

import time
from typing import Any

from inference.calibration import expected_calibration_error, reliability
from inference.scorer import Scorer
from inference.training import scores as metrics
from inference.training.dataset import Labelled

WARMUP_TEXTS = 32


def evaluate(scorer: Scorer, data: Labelled, *, warmup: bool = True) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class P/R/F1, confusion matrix, texts/s (one timed pass)."""
    if warmup and len(data):
        scorer.score(data.texts[:WARMUP_TEXTS])
    started = time.perf_counter()
    batch = scorer.score(data.texts)
    seconds = time.perf_counter() - started
    predicted = batch.label_ids
    out = metrics.report(data.labels, predicted)
    correct = predicted == data.labels
    out.update(
        ece=expected_calibration_error(batch.confidence, correct),
        reliability=reliability(batch.confidence, correct),
        escalated=None if batch.escalated is None else float(batch.escalated.mean()),
        model_id=scorer.model_id,
        data=data.source,
        seconds=seconds,
        texts_per_second=len(data) / seconds if seconds > 0 else 0.0,
    )
    return out


def format_report(report: dict[str, Any]) -> str:
    """Human-readable version of :func:`evaluate`'s result."""
    lines = [
        f"model     {report['model_id']}",
        f"data      {report['data']} ({report['n']} texts)",
        f"accuracy  {report['accuracy']:.4f}",
        f"macro-F1  {report['macro_f1']:.4f}",
        f"ECE       {report['ece']:.4f} (expected calibration error of the confidence)",
        f"speed     {report['texts_per_second']:.0f} texts/s",
        "",
        f"{'class':<10} {'precision':>9} {'recall':>7} {'f1':>7} {'support':>8}",
    ]
    for name, row in report["per_class"].items():
        lines.append(
            f"{name:<10} {row['precision']:>9.4f} {row['recall']:>7.4f} {row['f1']:>7.4f} "
            f"{row['support']:>8d}"
        )
    matrix = report["confusion_matrix"]
    labels = matrix["labels"]
    lines += [
        "",
        "confusion (rows true, columns predicted)",
        " " * 10 + "".join(f"{n:>10}" for n in labels),
    ]
    for name, row in zip(labels, matrix["rows_true_cols_pred"], strict=True):
        lines.append(f"{name:<10}" + "".join(f"{v:>10d}" for v in row))
    return "\n".join(lines)
