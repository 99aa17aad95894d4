"""EWMA baseline maths and z-scores as pure functions."""

from __future__ import annotations

import math

import pytest

from sentimon.alerts.baseline import Baseline, compute, window_index, z_score
from sentimon.windows import Stats


def window(*scores: float) -> Stats:
    total = Stats()
    for s in scores:
        label = "negative" if s < -0.3 else "positive" if s > 0.3 else "neutral"
        total = total + Stats.of_post(label, s)
    return total


def test_empty_history_is_an_empty_baseline():
    assert compute([Stats()] * 5, alpha=0.2, min_posts=1) == Baseline()


def test_single_window_gives_its_mean_and_population_variance():
    b = compute([window(0.5, -0.5, 0.0)], alpha=0.2, min_posts=1)
    assert b.mean == pytest.approx(0.0) and b.var == pytest.approx(1 / 6)
    assert b.windows == 1 and b.rate == pytest.approx(3) and b.rate_windows == 1


def test_weights_decay_with_age():
    recent, old = window(1.0, 1.0), window(-1.0, -1.0)
    b = compute([recent, old], alpha=0.5, min_posts=1)
    # weights 1 and 0.5: mean = (1*1 + 0.5*(-1)) / 1.5
    assert b.mean == pytest.approx(1 / 3)
    # per-post squared deviation from that mean, weighted the same way
    expected = (1 * (1 - 1 / 3) ** 2 + 0.5 * (-1 - 1 / 3) ** 2) / 1.5
    assert b.var == pytest.approx(expected)


def test_sparse_windows_move_only_the_rate():
    history = [window(-1.0), window(0.2, 0.2, 0.2), Stats(), window(0.4, 0.4)]
    b = compute(history, alpha=0.2, min_posts=2)
    assert b.windows == 2  # the one-post window does not move the mean
    assert -0.0 < b.mean < 0.4
    weights = [0.8**i for i in range(4)]
    assert b.rate == pytest.approx(
        sum(w * n for w, n in zip(weights, [1, 3, 0, 2], strict=True)) / sum(weights)
    )


def test_rate_covers_only_windows_since_the_first_post():
    b = compute([window(0.1), Stats(), Stats(), Stats()], alpha=0.2, min_posts=1)
    assert b.rate_windows == 1 and b.rate == pytest.approx(1.0)


def test_z_score_is_in_standard_errors_and_floored():
    b = Baseline(mean=0.1, var=0.25, windows=8, rate=4, rate_windows=8)
    w = window(*([-0.9] * 25))
    # stderr = 0.5 / sqrt(25) = 0.1 -> z = (-0.9 - 0.1) / 0.1
    assert z_score(w, b, min_stderr=0.05) == pytest.approx(-10.0)
    assert z_score(w, b, min_stderr=0.5) == pytest.approx(-2.0)  # floor wins
    assert z_score(Stats(), b, 0.1) == 0.0
    assert math.isclose(z_score(window(0.1), b, 0.1), 0.0, abs_tol=1e-9)


def test_window_index_is_tumbling_and_epoch_aligned():
    assert window_index(0, 900) == 0
    assert window_index(899_999, 900) == 0 and window_index(900_000, 900) == 1
