from __future__ import annotations

import pytest

from sentimon.errors import ConfigError
from sentimon.windows import (
    HourSpan,
    Stats,
    WindowRange,
    format_window,
    last_minute_of_window,
    minute_of,
    parse_window,
    window_spans,
)

H = 3600
DAY = 86400
MIDNIGHT = 1_793_059_200  # 2026-10-27T00:00:00Z (epoch s)


def test_parse_window():
    assert parse_window("5m") == 300 and parse_window("1h") == H and parse_window("24h") == 86400
    assert format_window(300) == "5m" and format_window(86400) == "1d"
    for bad in ("5", "10s", "90s", "1y", "-5m", "31d"):
        with pytest.raises(ConfigError):
            parse_window(bad)


def test_minute_of():
    assert minute_of(120_000) == 120 and minute_of(179_999) == 120


def test_spans_inside_one_hour():
    end = (10 * H + 30 * 60 + 5) * 1000  # 10:30:05
    spans = window_spans(end, 300)
    assert [(s.hour_s, s.first, s.last) for s in spans] == [(10 * H, 26, 30)]


def test_spans_cross_hours_and_full_hours():
    end = (10 * H + 5 * 60) * 1000  # 10:05:00.000 -> minutes 08:05 .. 10:04 for 2h
    spans = window_spans(end, 2 * H)
    assert [(s.hour_s // H, s.first, s.last, s.full) for s in spans] == [
        (8, 5, 59, False),
        (9, 0, 59, True),
        (10, 0, 4, False),
    ]
    assert sum(s.last - s.first + 1 for s in spans) == 120


def minutes_of(spans: list[HourSpan]) -> list[int]:
    """Every minute start (epoch s) the spans cover, oldest first."""
    return [s.hour_s + m * 60 for s in spans for m in range(s.first, s.last + 1)]


def test_last_minute_is_the_latest_that_starts_before_the_end():
    assert last_minute_of_window(180_000) == 120  # 00:03:00.000 -> the 00:02 bucket
    assert last_minute_of_window(180_001) == 180  # 00:03:00.001 -> its own minute
    assert last_minute_of_window(239_999) == 180


def test_a_window_ending_on_a_minute_boundary_is_half_open():
    end = (10 * H + 30 * 60) * 1000  # 10:30:00.000: buckets starting in [10:25, 10:30)
    assert [(s.hour_s, s.first, s.last) for s in window_spans(end, 300)] == [(10 * H, 25, 29)]
    assert WindowRange.ending_at(end, 300) == WindowRange(10 * H + 25 * 60, 10 * H + 29 * 60)


def test_a_mid_minute_end_keeps_its_own_minute():
    for end in ((10 * H + 30 * 60) * 1000 + 1, (10 * H + 30 * 60 + 59) * 1000 + 999):
        spans = window_spans(end, 300)
        assert [(s.hour_s, s.first, s.last) for s in spans] == [(10 * H, 26, 30)], end


def test_a_window_ending_on_an_hour_boundary_covers_the_hour_before_only():
    spans = window_spans(11 * H * 1000, H)  # 11:00:00.000
    assert [(s.hour_s, s.first, s.last, s.full) for s in spans] == [(10 * H, 0, 59, True)]
    assert list(WindowRange.ending_at(11 * H * 1000, H).hours()) == [10 * H]
    assert list(WindowRange.ending_at(11 * H * 1000 + 1, H).hours()) == [10 * H, 11 * H]


def test_24h_ending_at_midnight_is_exactly_the_previous_day():
    spans = window_spans(MIDNIGHT * 1000, DAY)
    minutes = minutes_of(spans)
    assert minutes == list(range(MIDNIGHT - DAY, MIDNIGHT, 60))
    assert len(minutes) == 1440 and all(s.full for s in spans) and len(spans) == 24
    window = WindowRange.ending_at(MIDNIGHT * 1000, DAY)
    assert (window.first_hour, window.last_hour) == (MIDNIGHT - DAY, MIDNIGHT - H)


def test_24h_ending_mid_minute_after_midnight_includes_midnight_minute():
    minutes = minutes_of(window_spans(MIDNIGHT * 1000 + 30_000, DAY))  # the watermark case
    assert minutes[0] == MIDNIGHT - DAY + 60 and minutes[-1] == MIDNIGHT
    assert len(minutes) == 1440


def test_stats_moments_exact():
    total = Stats()
    for label, score in [("positive", 0.5), ("negative", -0.25), ("neutral", 0.0)]:
        total = total + Stats.of_post(label, score)
    assert (total.count, total.positive, total.neutral, total.negative) == (3, 1, 1, 1)
    assert total.mean_score == pytest.approx(0.25 / 3)
    assert total.std_score == pytest.approx(
        (((0.5 - 0.25 / 3) ** 2 + (-0.25 - 0.25 / 3) ** 2 + (0.25 / 3) ** 2) / 3) ** 0.5
    )
    assert total.negative_share == pytest.approx(1 / 3)
    assert Stats().mean_score is None and Stats().as_dict()["std_score"] is None


def test_sum_is_order_independent():
    scores = [0.1234567, -0.7654321, 0.3333333, 0.9999999]
    a = sum((Stats.of_post("neutral", s) for s in scores), Stats())
    b = sum((Stats.of_post("neutral", s) for s in reversed(scores)), Stats())
    assert a == b


def test_total_is_the_sum_of_its_parts():
    parts = [Stats.of_post("positive", 0.8), Stats.of_post("negative", -0.3)]
    parts.append(Stats.of_post("neutral", 0.05))
    assert Stats.total(parts) == parts[0] + parts[1] + parts[2]
    assert Stats.total(parts[:1]) is parts[0]
