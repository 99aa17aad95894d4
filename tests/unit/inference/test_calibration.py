"""Calibration: temperature + bias by NLL, guarded decision offsets, stored with the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inference.calibration import (
    CalibratedScorer,
    Calibration,
    expected_calibration_error,
    fit,
    load_calibration,
    reliability,
)
from sentimon.errors import ModelError
from sentimon.testing import FixedScorer


def overconfident(n: int, seed: int, *, sharpen: float = 3.0, neutral_bias: float = 0.0):
    """Labels and probabilities whose true posterior is softmax(x) (a unit shift of unit
    normals) but which report softmax(sharpen * x): too sure of themselves when sharpen > 1,
    as fine-tuned classifiers are."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    x = rng.normal(size=(n, 3))
    x[np.arange(n), labels] += 1.0
    logits = x * sharpen
    logits[:, 1] += neutral_bias
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return labels, probs / probs.sum(axis=1, keepdims=True)


def ece_of(probs: np.ndarray, labels: np.ndarray) -> float:
    ids = probs.argmax(axis=1)
    return expected_calibration_error(probs.max(axis=1), ids == labels)


def test_fit_on_one_slice_lowers_ece_on_another() -> None:
    fit_labels, fit_probs = overconfident(1500, seed=1)
    test_labels, test_probs = overconfident(1500, seed=2)
    calibration = fit(fit_probs, fit_labels)
    assert calibration.temperature > 1.5  # it softens an overconfident model
    before = ece_of(test_probs, test_labels)
    after = ece_of(calibration.apply(test_probs), test_labels)
    assert before > 0.08
    assert after < before / 2
    assert calibration.fitted["ece_after"] < calibration.fitted["ece_before"]


def test_a_calibrated_model_is_left_nearly_alone() -> None:
    labels, probs = overconfident(2000, seed=3, sharpen=1.0)
    calibration = fit(probs, labels)
    assert calibration.temperature == pytest.approx(1.0, abs=0.15)


def test_decision_offsets_are_dropped_when_they_only_fit_noise() -> None:
    labels, probs = overconfident(900, seed=4)
    assert fit(probs, labels).decision == (0.0, 0.0, 0.0)


def test_decision_offsets_are_kept_when_they_carry_over() -> None:
    # a systematic lean to neutral that costs the minority classes recall
    rng = np.random.default_rng(5)
    labels = rng.choice(3, size=1200, p=[0.2, 0.6, 0.2])
    x = rng.normal(size=(1200, 3))
    x[np.arange(1200), labels] += 1.2
    x[:, 1] += 0.8
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    calibration = fit(probs, labels)
    assert calibration.fitted["macro_f1_after"] >= calibration.fitted["macro_f1_before"]


def test_reliability_bins_and_ece() -> None:
    conf = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, True, True, False])
    rows = reliability(conf, correct, bins=10)
    assert [r["n"] for r in rows] == [2, 2]
    assert expected_calibration_error(conf, correct, bins=10) == pytest.approx(
        (2 * 0.05 + 2 * 0.05) / 4
    )


def test_saved_calibration_loads_back_and_gives_thresholds(tmp_path: Path) -> None:
    labels, probs = overconfident(800, seed=6)
    calibration = fit(probs, labels, source="test")
    calibration.save(tmp_path)
    loaded = load_calibration(tmp_path)
    assert loaded == calibration
    low, high = loaded.threshold_for_share(0.1), loaded.threshold_for_share(0.5)
    assert 0.0 < low < high <= 1.0
    share = float((calibration.apply(probs).max(axis=1) < high).mean())
    assert share == pytest.approx(0.5, abs=0.05)
    assert load_calibration(tmp_path / "none") is None


def test_a_broken_calibration_file_names_itself(tmp_path: Path) -> None:
    (tmp_path / "calibration.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"calibration\.json"):
        load_calibration(tmp_path)


def test_thresholds_need_quantiles() -> None:
    with pytest.raises(ModelError, match="CASCADE_THRESHOLD"):
        Calibration(temperature=2.0).threshold_for_share(0.2)


def test_calibrated_scorer_softens_probabilities_and_keeps_the_model_id() -> None:
    inner = FixedScorer([0.02, 0.03, 0.95], model_id="m@1:onnx-int8")
    scorer = CalibratedScorer(inner, Calibration(temperature=2.0))
    batch = scorer.score(["a", "b"])
    assert batch.model_id == "m@1:onnx-int8"
    assert batch.labels == ["positive", "positive"]
    assert 0.5 < float(batch.confidence[0]) < 0.95
    assert np.allclose(batch.probs.sum(axis=1), 1.0, atol=1e-5)


def test_decision_offsets_pick_the_label_and_confidence_follows_it() -> None:
    inner = FixedScorer([0.30, 0.45, 0.25])
    scorer = CalibratedScorer(inner, Calibration(decision=(0.5, 0.0, 0.0)))
    batch = scorer.score(["x"])
    assert batch.labels == ["negative"]
    assert float(batch.confidence[0]) == pytest.approx(0.30, abs=1e-5)
