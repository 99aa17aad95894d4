"""Ticker drill-down: score over time with a ±stderr band, volume, recent posts, alerts."""

from __future__ import annotations

import streamlit as st

from dashboard.alertview import AlertCard, for_symbol
from dashboard.figures import chart_data, score_volume_spec
from dashboard.frames import bin_minutes, posts_frame, score_colour, series_frame
from dashboard.panels.alertfeed import render_cards
from dashboard.panels.overview import render_metrics
from dashboard.snapshot import Snapshot
from sentimon.keys import ticker_entity
from sentimon.store.query import Query

POSTS = 30
POST_COLUMNS = {
    "time": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "score": st.column_config.NumberColumn("Score", format="%+.3f"),
    "label": st.column_config.TextColumn("Label"),
    "source": st.column_config.TextColumn("Source"),
    "text": st.column_config.TextColumn("Text", width="large"),
    "url": st.column_config.LinkColumn("Link", display_text="open"),
    "tickers": st.column_config.TextColumn("Tickers"),
}


def pick_symbol(symbols: list[str]) -> str | None:
    if not symbols:
        return None
    return st.selectbox("Drill down into", symbols, key="ticker")


def render_drilldown(
    query: Query, snapshot: Snapshot, symbol: str, range_s: int, events: list[AlertCard]
) -> None:
    row = next((r for r in snapshot.tickers if r.symbol == symbol), None)
    if row is not None:
        render_metrics(row.view)
    points = query.series(ticker_entity(symbol), range_s, snapshot.end_ms)
    frame = series_frame(points, bin_minutes(range_s))
    st.vega_lite_chart(
        chart_data(frame), score_volume_spec(height=280), key="ticker_chart", width="stretch"
    )
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**Recent posts · {symbol}**")
        render_posts(query.recent_posts(symbol, POSTS))
    with right:
        mine = for_symbol(events, symbol)
        st.markdown(f"**Alerts · {symbol}** ({len(mine)})")
        if mine:
            render_cards(mine[:5])
        else:
            st.caption("No alerts for this ticker.")


def render_posts(posts: list[dict[str, object]]) -> None:
    if not posts:
        st.caption("No posts stored for this ticker.")
        return
    frame = posts_frame(posts)
    styled = frame.style.map(score_colour, subset=["score"])
    st.dataframe(
        styled,
        key="posts_table",
        hide_index=True,
        column_config=POST_COLUMNS,
        height=360,
        placeholder="—",
    )
