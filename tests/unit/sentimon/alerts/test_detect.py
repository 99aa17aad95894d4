"""Signals per kind: thresholds, the looser resolve threshold, min_count, warm-up."""

from __future__ import annotations

from dataclasses import replace

from sentimon.alerts.baseline import Baseline
from sentimon.alerts.detect import measure
from sentimon.alerts.rules import Rule
from sentimon.windows import Stats

DROP = Rule(
    "d",
    "sentiment_drop",
    ("ticker:*",),
    900,
    threshold=3.0,
    resolve=1.0,
    min_count=5,
    warmup=3,
    min_stderr=0.01,
)
RISE = replace(DROP, name="r", kind="sentiment_rise")
SHARE = Rule("n", "negative_share", ("ticker:*",), 900, threshold=0.7, resolve=0.5, min_count=5)
VOLUME = Rule(
    "v",
    "volume_spike",
    ("market",),
    900,
    threshold=3.0,
    resolve=1.5,
    min_count=5,
    warmup=3,
    min_rate=1.0,
)
WARM = Baseline(mean=0.2, var=0.25, windows=6, rate=4.0, rate_windows=6)


def posts(n: int, score: float) -> Stats:
    label = "negative" if score < -0.3 else "positive" if score > 0.3 else "neutral"
    total = Stats()
    for _ in range(n):
        total = total + Stats.of_post(label, score)
    return total


def test_drop_opens_below_minus_k_and_clears_above_minus_resolve():
    strong = measure(DROP, posts(10, -0.8), WARM)  # z = -1.0 / (0.5/sqrt(10)) = -6.3
    assert strong.active and not strong.cleared and strong.value < -6
    middling = measure(DROP, posts(9, -0.1), WARM)  # z = -0.3 / (0.5/3) = -1.8
    assert not middling.active and not middling.cleared  # between the thresholds: hold
    calm = measure(DROP, posts(9, 0.15), WARM)
    assert not calm.active and calm.cleared
    assert strong.stats["baseline_mean"] == 0.2 and strong.stats["count"] == 10


def test_rise_is_the_mirror_image():
    assert measure(RISE, posts(10, 0.9), WARM).active
    assert not measure(RISE, posts(10, -0.9), WARM).active


def test_min_count_and_warmup_never_open():
    few = measure(DROP, posts(4, -0.9), WARM)
    assert not few.active and few.cleared and few.stats["reason"] == "min_count"
    cold = measure(DROP, posts(10, -0.9), replace(WARM, windows=2))
    assert not cold.active and cold.stats["reason"] == "warmup"
    assert not measure(DROP, posts(10, -0.9), None).active


def test_negative_share_needs_no_baseline():
    assert measure(SHARE, posts(6, -0.9) + posts(2, 0.0), None).active  # 0.75
    held = measure(SHARE, posts(6, -0.9) + posts(5, 0.0), None)  # 0.55: between
    assert not held.active and not held.cleared
    assert measure(SHARE, posts(2, -0.9) + posts(8, 0.0), None).cleared


def test_volume_spike_against_the_baseline_rate_with_a_floor():
    assert measure(VOLUME, posts(12, 0.0), WARM).active  # 12 / 4 = 3
    hold = measure(VOLUME, posts(8, 0.0), WARM)  # 2: between 1.5 and 3
    assert not hold.active and not hold.cleared and hold.stats["ratio"] == 2.0
    quiet = replace(WARM, rate=0.1)
    assert measure(VOLUME, posts(5, 0.0), quiet).value == 5.0  # floor: min_rate 1
    assert not measure(VOLUME, posts(12, 0.0), replace(WARM, rate_windows=2)).active
