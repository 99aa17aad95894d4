"""Market overview: the sentiment index (mean score) and volume, now and against baseline."""

from __future__ import annotations

import streamlit as st

from dashboard.figures import chart_data, score_volume_spec
from dashboard.frames import bin_minutes, series_frame
from dashboard.panels.common import num, pct, ratio
from dashboard.snapshot import EntityView, Snapshot
from sentimon.windows import format_window


def render_market(snapshot: Snapshot, range_s: int) -> None:
    view = snapshot.market
    if view is None:
        return
    render_metrics(view, active=len(snapshot.tickers))
    bins = bin_minutes(range_s)
    frame = series_frame(snapshot.market_series, bins)
    st.caption(
        f"Market index over the last {format_window(range_s)} "
        f"({bins}-minute bins, band = ±1 standard error)"
    )
    st.vega_lite_chart(chart_data(frame), score_volume_spec(), key="market_chart", width="stretch")


def render_metrics(view: EntityView, *, active: int | None = None) -> None:
    """Index and volume of an entity: 5m, 1h with change vs baseline, stories begun in the
    last hour, negative share."""
    cols = st.columns(6 if active is not None else 5)
    cols[0].metric("Index 5m", num(view.m5.mean_score), help=f"{view.m5.count} posts")
    cols[1].metric(
        "Index 1h",
        num(view.h1.mean_score),
        delta=None if view.change is None else f"{view.change:+.3f} vs base",
        help=f"baseline (previous 24 h): {num(view.baseline.mean_score)}",
    )
    cols[2].metric(
        "Posts 1h",
        f"{view.h1.count:,}",
        delta=None if view.volume_ratio is None else ratio(view.volume_ratio),
        delta_color="off",
    )
    story = view.story_h1
    cols[3].metric(
        "Stories 1h",
        f"{story.count:,}",
        help="stories begun in the last hour, each counted once at its first post; "
        f"{pct(story.negative_share)} of them negative",
    )
    cols[4].metric("Negative share 1h", pct(view.h1.negative_share))
    if active is not None:
        cols[5].metric("Active tickers 24h", f"{active:,}")
