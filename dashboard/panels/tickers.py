"""The ticker table: top movers first, sortable, searchable, with a 24 h trend sparkline.

Its figures count the mentions at the chosen minimum relevance or above; the weighted mean
beside the last hour's mean counts every mention in proportion to its relevance. Beside
the posts of the last hour, its stories: each story begun there counted once, at its first
post, so twelve copies of one wire story are 12 posts but 1 story."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import mentions
from dashboard.frames import filter_tickers, ticker_frame
from dashboard.snapshot import Snapshot, top_movers

COLUMNS = {
    "ticker": st.column_config.TextColumn("Ticker", pinned=True),
    "n_5m": st.column_config.NumberColumn("Posts 5m", format="%d"),
    "mean_5m": st.column_config.NumberColumn("Score 5m", format="%+.3f"),
    "n_1h": st.column_config.NumberColumn("Posts 1h", format="%d"),
    "st_1h": st.column_config.NumberColumn(
        "Stories 1h",
        format="%d",
        help="stories begun in the last hour naming the ticker (copies of one story count once)",
    ),
    "mean_1h": st.column_config.NumberColumn("Score 1h", format="%+.3f"),
    "wmean_1h": st.column_config.NumberColumn(
        "Weighted 1h",
        format="%+.3f",
        help="relevance-weighted mean score over every mention in the last hour",
    ),
    "baseline": st.column_config.NumberColumn(
        "Baseline", format="%+.3f", help="mean score over the 24 h before the last hour"
    ),
    "change": st.column_config.NumberColumn("Δ vs base", format="%+.3f"),
    "z": st.column_config.NumberColumn(
        "z", format="%+.1f", help="change in standard errors (the table's default order, |z|)"
    ),
    "neg_1h": st.column_config.NumberColumn("Neg share 1h", format="percent"),
    "vol_ratio": st.column_config.NumberColumn(
        "Vol x base", format="%.2f", help="posts in the last hour / baseline posts per hour"
    ),
    "trend": st.column_config.LineChartColumn("Score 24h", y_min=-1, y_max=1, width="medium"),
}


def render_table(snapshot: Snapshot) -> list[str]:
    """Draw the table (over the mentions at the snapshot's minimum relevance or above);
    return the symbols it shows, in order (for the drill-down picker)."""
    search = st.text_input(
        "Search tickers",
        key="ticker_search",
        placeholder="e.g. AAPL, NVDA",
        label_visibility="collapsed",
    )
    frame = filter_tickers(ticker_frame(top_movers(snapshot.tickers)), search)
    if frame.empty:
        st.info(f"No ticker matches “{search}”." if search else "No ticker has posts yet.")
        return []
    st.dataframe(
        frame,
        key="ticker_table",
        hide_index=True,
        column_config=COLUMNS,
        height=_height(frame),
        row_height=32,
        placeholder="—",
    )
    st.caption(
        f"{len(frame):,} of {len(snapshot.tickers):,} tickers · {mentions.scope(snapshot.min_relevance)}"
        " · top movers first (click a column header to sort)"
    )
    return [str(sym) for sym in frame["ticker"]]


def _height(frame: pd.DataFrame) -> int:
    return min(38 + 32 * len(frame), 420)
