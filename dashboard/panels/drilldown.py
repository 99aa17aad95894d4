"""Ticker drill-down: score over time with a ±stderr band, volume, recent posts, alerts.

Its windows and chart count the mentions at the chosen minimum relevance or above, as the
table does; its recent posts are every post naming the ticker, each with the companies it
names, and those naming it below the minimum are marked "low relevance"."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard import mentions
from dashboard.alertview import AlertCard, for_symbol
from dashboard.figures import chart_data, score_volume_spec
from dashboard.frames import bin_minutes, posts_frame, score_colour, series_frame
from dashboard.panels.alertfeed import render_cards
from dashboard.panels.overview import render_metrics
from dashboard.snapshot import Snapshot
from sentimon.entities.relevance import levels_below
from sentimon.keys import relevance_entity, ticker_entity
from sentimon.store.query import Point, Query
from sentimon.windows import format_window

POSTS = 30
POST_COLUMNS = {
    "time": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "score": st.column_config.NumberColumn(
        "Score", format="%+.3f", help="the sentiment toward this ticker in the post"
    ),
    "label": st.column_config.TextColumn("Label"),
    "relevance": st.column_config.NumberColumn(
        "Relevance", format="%.1f", help="how much the post is about this ticker (0.2-1)"
    ),
    "low_relevance": st.column_config.CheckboxColumn(
        "Low relevance", help="names this ticker below the minimum relevance: not counted"
    ),
    "source": st.column_config.TextColumn("Source"),
    "text": st.column_config.TextColumn("Text", width="large"),
    "url": st.column_config.LinkColumn("Link", display_text="open"),
    "entities": st.column_config.TextColumn(
        "Companies", width="medium", help="every company the post names: label · relevance"
    ),
}


def pick_symbol(symbols: list[str]) -> str | None:
    if not symbols:
        return None
    return st.selectbox("Drill down into", symbols, key="ticker")


def render_drilldown(
    query: Query,
    snapshot: Snapshot,
    symbol: str,
    range_s: int,
    events: list[AlertCard],
) -> None:
    min_relevance = snapshot.min_relevance
    row = next((r for r in snapshot.tickers if r.symbol == symbol), None)
    if row is not None:
        render_metrics(row.view)
    points = ticker_series(query, symbol, range_s, snapshot.end_ms, min_relevance)
    frame = series_frame(points, bin_minutes(range_s))
    st.vega_lite_chart(
        chart_data(frame), score_volume_spec(height=280), key="ticker_chart", width="stretch"
    )
    st.caption(f"{symbol} over the last {format_window(range_s)} · {mentions.scope(min_relevance)}")
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**Recent posts · {symbol}**")
        render_posts(query.recent_posts(symbol, POSTS), symbol, min_relevance)
    with right:
        mine = for_symbol(events, symbol)
        st.markdown(f"**Alerts · {symbol}** ({len(mine)})")
        if mine:
            render_cards(mine[:5])
        else:
            st.caption("No alerts for this ticker.")


def ticker_series(
    query: Query, symbol: str, range_s: int, end_ms: int | None, min_relevance: float
) -> list[Point]:
    """The ticker's minute series over its relevant mentions: the ticker and the levels
    below the minimum, read in one round trip."""
    entity = ticker_entity(symbol)
    below = {lv: relevance_entity(entity, lv) for lv in levels_below(min_relevance)}
    read = query.many_series([entity, *below.values()], range_s, end_ms)
    levels = {lv: read[e] for lv, e in below.items()}
    return mentions.relevant_series(read[entity], levels, min_relevance)


def render_posts(
    posts: list[dict[str, Any]], symbol: str | None = None, min_relevance: float = 0.0
) -> None:
    if not posts:
        st.caption("No posts stored for this ticker.")
        return
    frame = posts_frame(posts, symbol, min_relevance)
    low = int(frame["low_relevance"].sum())
    styled = frame.style.map(score_colour, subset=["score"]).apply(_grey_low, axis=1)
    st.dataframe(
        styled,
        key="posts_table",
        hide_index=True,
        column_config=POST_COLUMNS,
        height=360,
        placeholder="—",
    )
    if low:
        st.caption(
            f"{low} of these posts name {symbol} only in passing (relevance below "
            f"{min_relevance:g}): marked low relevance, not counted in its figures."
        )


def _grey_low(row: pd.Series) -> list[str]:
    """Grey out the text of posts naming the ticker below the minimum relevance."""
    style = "color: #9e9e9e" if row["low_relevance"] else ""
    return [style if column in ("text", "entities") else "" for column in row.index]
