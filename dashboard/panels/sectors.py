"""Sector view of the market overview: per sector of the universe, over the chart range,
posts, mean score, relevance-weighted mean and negative share, most active first.

A post counts once per sector among its companies, with its most relevant company there
(``sentimon.aggregate``); the minimum relevance applies as in the ticker table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import mentions
from dashboard.frames import score_colour, sector_frame
from dashboard.snapshot import Snapshot
from sentimon.windows import format_window

COLUMNS = {
    "sector": st.column_config.TextColumn("Sector", pinned=True),
    "posts": st.column_config.NumberColumn(
        "Posts", format="%d", help="posts about the sector at the minimum relevance or above"
    ),
    "mean": st.column_config.NumberColumn("Mean score", format="%+.3f"),
    "wmean": st.column_config.NumberColumn(
        "Weighted mean",
        format="%+.3f",
        help="relevance-weighted mean score over every mention",
    ),
    "neg_share": st.column_config.NumberColumn("Negative share", format="percent"),
    "mentions": st.column_config.NumberColumn(
        "All mentions", format="%d", help="every post about the sector, whatever its relevance"
    ),
}


def render_sectors(snapshot: Snapshot, range_s: int) -> None:
    """The sector table at the snapshot's minimum relevance, and a caption naming the most
    active sector."""
    min_relevance = snapshot.min_relevance
    frame = sector_frame(snapshot.sectors, min_relevance)
    if frame.empty:
        st.caption("No sectors: the company universe lists none.")
        return
    styled = frame.style.map(score_colour, subset=["mean", "wmean"])
    st.dataframe(
        styled,
        key="sector_table",
        hide_index=True,
        column_config=COLUMNS,
        height=_height(frame),
        placeholder="—",
    )
    st.caption(caption(frame, range_s, min_relevance))


def caption(frame: pd.DataFrame, range_s: int, min_relevance: float) -> str:
    """``Most active: Information Technology (42 posts) · last 6h · mentions with …``."""
    scope = f"last {format_window(range_s)} · {mentions.scope(min_relevance)}"
    top = frame.iloc[0]
    if not top["posts"]:
        return f"No sector has posts · {scope}"
    return f"Most active: **{top['sector']}** ({int(top['posts']):,} posts) · {scope}"


def _height(frame: pd.DataFrame) -> int:
    return 38 + 35 * len(frame)
