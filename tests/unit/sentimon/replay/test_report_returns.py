"""Forward returns, drawdown and hit rates (pure maths)."""

from __future__ import annotations

import math

import pytest

from sentimon.replay.returns import (
    HORIZONS,
    PriceSeries,
    forward_return,
    is_hit,
    max_drawdown,
    outcome,
    path_drawdown,
    summarise,
)

M = 60_000
T = 1_793_000_000_000


def series(*points: tuple[int, float]) -> PriceSeries:
    return PriceSeries.of((T + dt, px) for dt, px in points)


def test_forward_return_uses_the_last_price_at_or_before_each_time():
    s = series((-M, 100.0), (10 * M, 101.0), (15 * M, 98.0), (20 * M, 97.0), (61 * M, 90.0))
    assert forward_return(s, T, HORIZONS["15m"]) == pytest.approx(98.0 / 100.0 - 1)
    # +1h falls between 20m and 61m: the price at 20m is the last known
    assert forward_return(s, T, HORIZONS["1h"]) == pytest.approx(97.0 / 100.0 - 1)


def test_forward_return_is_unknown_without_entry_price_or_full_horizon():
    s = series((5 * M, 100.0), (30 * M, 99.0))
    assert forward_return(s, T, HORIZONS["15m"]) is None  # no price at or before the alert
    assert forward_return(s, T + 5 * M, HORIZONS["1h"]) is None  # series ends before +1h
    assert forward_return(s, T + 5 * M, HORIZONS["15m"]) == 0.0  # +15m: still the 5m price
    assert forward_return(s, T + 15 * M, HORIZONS["15m"]) == pytest.approx(-0.01)


def test_equal_timestamps_keep_file_order():
    s = PriceSeries.of([(T, 100.0), (T, 105.0), (T + M, 110.0)])
    assert s.at_or_before(T) == 105.0


def test_drawdown_is_measured_from_the_running_peak():
    assert path_drawdown([100, 110, 99, 105, 88, 120]) == pytest.approx(88 / 110 - 1)
    assert path_drawdown([100, 101, 102]) == 0.0
    s = series((0, 100.0), (M, 110.0), (2 * M, 99.0), (2 * HORIZONS["1d"], 50.0))
    assert max_drawdown(s, T, HORIZONS["1d"]) == pytest.approx(99 / 110 - 1)  # 50 is past 1d
    assert max_drawdown(series((0, 100.0)), T, HORIZONS["1d"]) is None


@pytest.mark.parametrize(
    ("kind", "ret", "hit"),
    [
        ("sentiment_drop", -0.01, True),
        ("sentiment_drop", 0.02, False),
        ("negative_share", -0.001, True),
        ("sentiment_rise", 0.01, True),
        ("sentiment_rise", -0.01, False),
        ("sentiment_drop", 0.0, False),
        ("volume_spike", -0.05, None),
        ("sentiment_drop", None, None),
    ],
)
def test_hit_follows_the_alert_direction(kind, ret, hit):
    assert is_hit(kind, ret) is hit


def test_summary_per_rule():
    down = series((0, 100.0), (15 * M, 95.0), (60 * M, 90.0), (HORIZONS["1d"], 80.0))
    up = series((0, 100.0), (15 * M, 101.0), (60 * M, 103.0), (HORIZONS["1d"], 104.0))
    outcomes = [
        outcome("drop", "sentiment_drop", "ticker:A", T, down),
        outcome("drop", "sentiment_drop", "ticker:B", T, up),
        outcome("drop", "sentiment_drop", "ticker:C", T, None),
        outcome("vol", "volume_spike", "ticker:A", T, down),
    ]
    result = summarise(outcomes)
    drop = result["drop"]
    assert drop["alerts"] == 3 and drop["priced"] == 2 and drop["direction"] == "down"
    h15 = drop["horizons"]["15m"]
    assert h15["n"] == 2
    assert h15["mean_return"] == pytest.approx((-0.05 + 0.01) / 2)
    assert h15["hit_rate"] == 0.5
    assert drop["worst_max_drawdown_1d"] == pytest.approx(-0.2)
    assert result["vol"]["horizons"]["1h"]["hit_rate"] is None
    assert result["vol"]["horizons"]["1h"]["mean_return"] == pytest.approx(-0.1)
    assert list(result) == ["drop", "vol"]


def test_no_priced_alert_gives_empty_figures():
    result = summarise([outcome("drop", "sentiment_drop", "market", T, None)])
    h = result["drop"]["horizons"]["1d"]
    assert h == {"n": 0, "mean_return": None, "hit_rate": None}
    assert result["drop"]["mean_max_drawdown_1d"] is None
    assert not math.isnan(result["drop"]["alerts"])
