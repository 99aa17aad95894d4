"""Tables and series the dashboard draws (pure)."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard.frames import (
    bin_minutes,
    filter_tickers,
    posts_frame,
    score_colour,
    sector_frame,
    series_frame,
    sparkline,
    ticker_frame,
)
from dashboard.snapshot import EntityView, TickerRow, total
from sentimon.store.query import Point
from sentimon.windows import Stats

T0 = 1_793_000_000 // 3600 * 3600  # an hour start, epoch s


def test_sparkline_repeats_the_last_value_over_hours_without_posts():
    hours = [Stats(), Stats(2, 0, 0, 0, 1_000_000, 0), Stats(), Stats(1, 0, 0, 0, -500_000, 0)]
    assert sparkline(hours) == [0.0, 0.5, 0.5, -0.5]


def test_series_frame_bins_minutes_and_puts_a_stderr_band_around_the_mean():
    points = [
        Point(T0 + 0, Stats.of_post("positive", 1.0) + Stats.of_post("negative", -1.0)),
        Point(T0 + 60, Stats()),
        Point(T0 + 300, Stats.of_post("positive", 0.5)),
    ]
    frame = series_frame(points, minutes_per_bin=5)
    assert list(frame["count"]) == [2, 1]
    first = frame.iloc[0]
    assert first["mean"] == 0.0
    assert first["hi"] == pytest.approx(1 / 2**0.5)  # std 1, n 2
    assert first["lo"] == pytest.approx(-1 / 2**0.5)
    assert first["time"] == pd.Timestamp(T0, unit="s", tz="UTC")
    assert frame.iloc[1]["negative_share"] == 0.0


def test_series_frame_leaves_empty_bins_without_a_mean():
    frame = series_frame([Point(T0, Stats())], 1)
    assert frame.iloc[0]["count"] == 0
    assert pd.isna(frame.iloc[0]["mean"])


def test_bin_minutes_by_range():
    assert (bin_minutes(3600), bin_minutes(6 * 3600), bin_minutes(24 * 3600)) == (1, 5, 15)


def test_ticker_frame_and_search():
    view = EntityView(
        Stats.of_post("negative", -0.5),
        Stats.of_post("negative", -0.5) + Stats.of_post("positive", 0.5),
        Stats(),
        [Stats()] * 24,
    )
    frame = ticker_frame([TickerRow("AAPL", view), TickerRow("BRK.B", view)])
    row = frame.iloc[0]
    assert (row["ticker"], row["n_5m"], row["mean_5m"], row["n_1h"]) == ("AAPL", 1, -0.5, 2)
    assert row["neg_1h"] == 0.5
    assert pd.isna(row["change"])
    assert len(row["trend"]) == 24
    assert list(filter_tickers(frame, "brk")["ticker"]) == ["BRK.B"]
    assert list(filter_tickers(frame, "aapl, brk")["ticker"]) == ["AAPL", "BRK.B"]
    assert len(filter_tickers(frame, "  ")) == 2
    assert filter_tickers(frame, "MSFT").empty


def test_posts_frame_sorts_newest_first_and_joins_title_and_text():
    posts = [
        {"ts": T0 * 1000, "score": -0.7, "label": "negative", "source": "wire",
         "title": "Probe widens", "text": "Regulators widen the probe", "url": "https://x/1",
         "tickers": ["TSLA"]},
        {"ts": T0 * 1000 - 1000, "score": 0.2, "label": "neutral", "kind": "social",
         "text": "$TSLA holds", "tickers": ["TSLA", "F"]},
    ]  # fmt: skip
    frame = posts_frame(posts[::-1])  # the stream's arrival order is not event-time order
    assert list(frame["score"]) == [-0.7, 0.2]
    assert frame.iloc[0]["text"] == "Probe widens — Regulators widen the probe"
    assert frame.iloc[1]["source"] == "social"
    assert frame.iloc[1]["entities"] == "TSLA, F"  # written before entity linking
    assert str(frame.iloc[0]["time"].tz) == "UTC"


def test_posts_frame_shows_each_company_and_marks_low_relevance_mentions():
    def entity(ticker: str, label: str, score: float, relevance: float) -> dict[str, object]:
        return {"ticker": ticker, "name": ticker.title(), "sector": "Information Technology",
                "label": label, "score": score, "relevance": relevance, "mentions": 1}  # fmt: skip

    posts = [
        {"ts": T0 * 1000, "score": -0.4, "label": "negative", "text": "Apple slips while "
         "Microsoft climbs", "tickers": ["AAPL", "MSFT"],
         "entities": [entity("AAPL", "negative", -0.6, 0.8), entity("MSFT", "positive", 0.5, 0.6)]},
        {"ts": T0 * 1000 - 1, "score": 0.1, "label": "neutral", "text": "Movers: ...",
         "tickers": ["NVDA", "MSFT"],
         "entities": [entity("NVDA", "neutral", 0.1, 0.4), entity("MSFT", "neutral", 0.1, 0.2)]},
    ]  # fmt: skip
    frame = posts_frame(posts, "MSFT", 0.4)
    assert frame.iloc[0]["entities"] == "AAPL negative · 0.8, MSFT positive · 0.6"
    first, second = frame.iloc[0], frame.iloc[1]
    # the sentiment toward MSFT, not the post's
    assert (first["score"], first["label"], first["relevance"]) == (0.5, "positive", 0.6)
    assert not first["low_relevance"] and second["low_relevance"]
    assert not posts_frame(posts, "MSFT", 0.0)["low_relevance"].any()
    market = posts_frame(posts)  # no ticker: the post's own sentiment, nothing marked
    assert list(market["score"]) == [-0.4, 0.1] and market["relevance"].isna().all()


def test_ticker_frame_shows_the_weighted_mean_beside_the_plain_one():
    view = EntityView(Stats(), Stats.of_post("negative", -0.5), Stats(), [Stats()] * 24)
    row = ticker_frame([TickerRow("AAPL", view, -0.25)]).iloc[0]
    assert (row["mean_1h"], row["wmean_1h"]) == (-0.5, -0.25)
    assert pd.isna(ticker_frame([TickerRow("MSFT", view)]).iloc[0]["wmean_1h"])


def test_sector_frame_is_most_active_first_over_the_relevant_mentions():
    from dashboard.snapshot import SectorRow
    from sentimon.entities.weighted import RelevanceStats

    def sector(name: str, full: list[float], low: list[float]) -> SectorRow:
        def of(scores: list[float]) -> Stats:
            return total(Stats.of_post("negative" if s < 0 else "positive", s) for s in scores)

        return SectorRow(name, RelevanceStats(of(full + low), {0.2: of(low)}))

    rows = [
        sector("Energy", [0.5], [-0.5, -0.5, -0.5]),  # most mentions, one relevant
        sector("Utilities", [], []),
        sector("Financials", [-0.5, 0.5], []),
        sector("Materials", [0.5], []),
    ]
    frame = sector_frame(rows, 0.4)
    assert list(frame["sector"]) == ["Financials", "Energy", "Materials", "Utilities"]
    energy = frame.set_index("sector").loc["Energy"]
    assert (energy["posts"], energy["mean"], energy["neg_share"], energy["mentions"]) == (
        1, 0.5, 0.0, 4,
    )  # fmt: skip
    assert energy["wmean"] == pytest.approx((0.5 - 3 * 0.2 * 0.5) / 1.6)
    assert pd.isna(frame.set_index("sector").loc["Utilities", "mean"])
    assert sector_frame(rows, 0.0).iloc[0]["sector"] == "Energy"


def test_score_colour():
    assert "#0a7d32" in score_colour(0.4)
    assert "#c62828" in score_colour(-0.4)
    assert "#666" in score_colour(0.0)
    assert score_colour(None) == ""
    assert score_colour(float("nan")) == ""


def test_chart_spec_is_data_independent_and_utc():
    from dashboard.figures import chart_data, score_volume_spec

    spec = score_volume_spec()
    assert spec == score_volume_spec()  # refreshes swap data only, the chart is not rebuilt
    fields = {
        layer["encoding"]["y"]["field"] for layer in [spec["layer"][0], *spec["layer"][1]["layer"]]
    }
    assert fields == {"count", "lo", "mean"}
    assert spec["layer"][0]["encoding"]["x"]["scale"] == {"type": "utc"}
    frame = chart_data(series_frame([Point(T0, Stats.of_post("positive", 0.5))], 1))
    assert frame.iloc[0]["utc"].endswith("UTC")
