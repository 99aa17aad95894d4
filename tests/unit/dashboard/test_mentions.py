"""The dashboard's minimum-relevance control and its client-side cuts (pure)."""

from __future__ import annotations

import pytest

from dashboard import mentions
from sentimon.store.query import Point
from sentimon.windows import Stats

POS, NEG = Stats.of_post("positive", 0.5), Stats.of_post("negative", -0.5)


def test_the_control_offers_every_step_and_the_configured_default():
    assert mentions.choices(0.4) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert mentions.choices(0.5) == [0.0, 0.2, 0.4, 0.5, 0.6, 0.8, 1.0]
    assert mentions.label(0.0) == "all mentions" and mentions.label(0.6) == "≥ 0.6"
    assert mentions.scope(0.0) == "every mention"
    assert mentions.scope(0.4) == "mentions with relevance ≥ 0.4"


def test_at_least_and_weighted_mean():
    every = POS + NEG + NEG
    levels = {0.2: NEG, 0.6: NEG}
    assert mentions.at_least(every, levels, 0.0) == every
    assert mentions.at_least(every, levels, 0.4) == POS + NEG
    assert mentions.at_least(every, levels, 0.7) == POS
    assert mentions.at_least(every, {}, 0.7) == every  # no level: every mention is full
    assert mentions.weighted_mean(every, levels) == pytest.approx((0.5 - 0.1 - 0.3) / 1.8)
    assert mentions.weighted_mean(Stats(), {}) is None


def test_relevant_series_subtracts_the_levels_minute_by_minute():
    points = [Point(0, POS + NEG), Point(60, Stats()), Point(120, NEG)]
    low = [Point(0, NEG), Point(60, Stats()), Point(120, Stats())]
    got = mentions.relevant_series(points, {0.2: low}, 0.4)
    assert [p.stats for p in got] == [POS, Stats(), NEG]
    assert [p.minute_s for p in got] == [0, 60, 120]
    assert mentions.relevant_series(points, {}, 0.4) is points
