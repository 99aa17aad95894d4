"""Fit a built model's calibration on held-out training data and store it with the model.

Run by ``make model`` (and ``make teacher``) after the export: the model as served on the
CPU (ONNX int8, else what ``auto`` picks) scores the held-out slice
(``inference.training.student_data``), and ``inference.calibration.fit`` learns the
temperature, the per-class bias and the macro-F1 decision offsets from those scores. The
result is ``<model>/calibration.json``; ``load_scorer`` applies it. The same scores, as
calibrated, give the model's reference profile for drift (``inference.profile``,
``<model>/reference.json``): the held-out slice is a random tenth of the training tweets.
"""

from __future__ import annotations

import logging
from pathlib import Path

from inference.calibration import Calibration, fit
from inference.loader import load_scorer
from inference.profile import write_reference
from inference.training.dataset import Labelled

log = logging.getLogger(__name__)


def calibrate_model(model_dir: Path, holdout: Labelled) -> Calibration:
    """Fit and save ``model_dir``'s calibration on ``holdout``."""
    scorer = load_scorer(model=str(model_dir), device="cpu", calibrate=False, cascade="off")
    batch = scorer.score(holdout.texts)
    calibration = fit(batch.probs, holdout.labels, source=f"{len(holdout)} held-out training texts")
    path = calibration.save(Path(model_dir))
    tokenizer = getattr(scorer, "tokenizer", None)
    if tokenizer is not None:
        write_reference(model_dir, holdout.texts, calibration.apply(batch.probs), tokenizer)
    log.info(
        "calibration of %s: temperature %.3f, ECE %.4f -> %.4f, saved to %s",
        scorer.model_id,
        calibration.temperature,
        calibration.fitted["ece_before"],
        calibration.fitted["ece_after"],
        path,
    )
    return calibration
