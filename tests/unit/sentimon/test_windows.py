import pytest

from sentimon.errors import ConfigError
from sentimon.windows import Stats, format_window, minute_of, parse_window, window_spans

H = 3600


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
    end = (10 * H + 5 * 60) * 1000  # 10:05:00 -> minutes 08:06 .. 10:05 for 2h
    spans = window_spans(end, 2 * H)
    assert [(s.hour_s // H, s.first, s.last, s.full) for s in spans] == [
        (8, 6, 59, False),
        (9, 0, 59, True),
        (10, 0, 5, False),
    ]
    assert sum(s.last - s.first + 1 for s in spans) == 120


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
