"""Parity rules: fp32 by max probability difference, int8 by agreement and macro-F1."""

from __future__ import annotations

import numpy as np
import pytest

from inference.training.dataset import Labelled
from inference.training.parity import compare, require
from sentimon.errors import ParityError
from sentimon.testing import FixedScorer


def sample(n: int = 200) -> tuple[Labelled, np.ndarray]:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(n, 3)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return Labelled([f"t{i}" for i in range(n)], probs.argmax(axis=1)), probs


def test_fp32_passes_within_tolerance_and_fails_beyond():
    data, probs = sample()
    ref = FixedScorer(probs)
    ok = compare(ref, FixedScorer(probs + 5e-4), data, "fp32")
    assert ok.passed and ok.max_prob_diff == pytest.approx(5e-4, rel=1e-2)
    bad = compare(ref, FixedScorer(probs + 5e-3), data, "fp32")
    assert not bad.passed
    with pytest.raises(ParityError, match=r"fails parity on 200 texts"):
        require(bad, "candidate@x")


def flip(probs: np.ndarray, k: int) -> np.ndarray:
    """Reverse the class order of the first ``k`` rows whose argmax is not neutral."""
    out = probs.copy()
    rows = np.flatnonzero(probs.argmax(axis=1) != 1)[:k]
    out[rows] = out[rows, ::-1]
    return out


def test_int8_needs_99_percent_agreement():
    data, probs = sample()
    ref = FixedScorer(probs)
    one = compare(ref, FixedScorer(flip(probs, 1)), data, "int8")
    assert one.agreement == pytest.approx(0.995) and one.passed
    three = compare(ref, FixedScorer(flip(probs, 3)), data, "int8")
    assert three.agreement == pytest.approx(0.985) and not three.passed
    # int8 ignores small probability drift as long as the labels hold
    assert compare(ref, FixedScorer(probs * 0.98 + 0.02 / 3), data, "int8").passed
