"""Ticker drill-down: score over time with a ±stderr band, volume and stories begun,
recent posts grouped by story, alerts.

Its windows and chart count the mentions at the chosen minimum relevance or above, as the
table does (the stories begun count every story whose first post names the ticker); its
recent posts are every post naming the ticker, one row per story with its copies beneath,
each with the companies it names, and those naming it below the minimum are marked "low
relevance"."""

from __future__ import annotations

import streamlit as st

from dashboard import mentions
from dashboard.alertview import AlertCard, for_symbol
from dashboard.figures import chart_data, score_volume_spec
from dashboard.frames import bin_minutes, series_frame
from dashboard.panels.alertfeed import render_cards
from dashboard.panels.overview import render_metrics
from dashboard.panels.storyfeed import READ, render_stories
from dashboard.snapshot import Snapshot
from dashboard.storyseries import read_series
from sentimon.entities.relevance import levels_below
from sentimon.keys import relevance_entity, ticker_entity
from sentimon.store.query import Point, Query
from sentimon.windows import format_window


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
    render_chart(query, snapshot, symbol, range_s)
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**Recent stories · {symbol}**")
        posts = query.recent_posts(symbol, READ)
        render_stories(posts, key="posts", symbol=symbol, min_relevance=min_relevance)
    with right:
        mine = for_symbol(events, symbol)
        st.markdown(f"**Alerts · {symbol}** ({len(mine)})")
        if mine:
            render_cards(mine[:5])
        else:
            st.caption("No alerts for this ticker.")


def render_chart(query: Query, snapshot: Snapshot, symbol: str, range_s: int) -> None:
    """Score and volume of the ticker's relevant mentions, with a toggle for the stories
    begun per bin (the same read either way: only the chart's spec changes)."""
    min_relevance = snapshot.min_relevance
    stories = st.toggle(
        "Stories", value=True, key="show_stories", help="stories begun per bin, beside posts"
    )
    points, begun = ticker_series(query, symbol, range_s, snapshot.end_ms, min_relevance)
    frame = series_frame(points, bin_minutes(range_s), begun)
    spec = score_volume_spec(height=280, stories=stories)
    st.vega_lite_chart(chart_data(frame), spec, key="ticker_chart", width="stretch")
    shown = " · orange: stories begun (each once, at its first post)" if stories else ""
    st.caption(
        f"{symbol} over the last {format_window(range_s)} · {mentions.scope(min_relevance)}" + shown
    )


def ticker_series(
    query: Query, symbol: str, range_s: int, end_ms: int | None, min_relevance: float
) -> tuple[list[Point], list[Point]]:
    """The ticker's minute series over its relevant mentions, and of the stories begun:
    the ticker (posts and stories) and the levels below the minimum, in one round trip."""
    entity = ticker_entity(symbol)
    below = {lv: relevance_entity(entity, lv) for lv in levels_below(min_relevance)}
    read = read_series(query, entity, list(below.values()), range_s, end_ms)
    levels = {lv: read.others[e] for lv, e in below.items()}
    return mentions.relevant_series(read.posts, levels, min_relevance), read.stories
