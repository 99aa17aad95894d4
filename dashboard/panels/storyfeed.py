"""Recent posts grouped by story: one row per story, its copies listed beneath.

Used by the market feed (every post) and the drill-down (posts naming one ticker, with
the sentiment toward it and its relevance). A story re-published by many outlets is one
row, "12 copies, first by Newswire at 14:02" (``dashboard.story_groups``); the copies of the
stories with several posts are listed in an expander under the table. Under the table, "Why
this score?" picks one story's first post and highlights the words that pushed its score
(``dashboard.panels.explanation``; the model loads only then).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dashboard.frames import copies_frame, score_colour, story_frame
from dashboard.panels.explanation import render_why
from dashboard.story_groups import StoryGroup, group_by_story

#: Posts read from a recent-posts stream (it keeps ``recent_posts``, 50, per entity).
READ = 50
#: Stories shown.
SHOWN = 50

STORY_COLUMNS = {
    "time": st.column_config.DatetimeColumn(
        "Latest (UTC)", format="YYYY-MM-DD HH:mm:ss", help="the story's latest post in view"
    ),
    "story": st.column_config.TextColumn(
        "Story", width="medium", help="copies among the posts in view, and who published first"
    ),
    "copies": st.column_config.NumberColumn("Copies", format="%d"),
    "score": st.column_config.NumberColumn(
        "Score", format="%+.3f", help="the sentiment of the story's first post"
    ),
    "label": st.column_config.TextColumn("Label"),
    "confidence": st.column_config.NumberColumn(
        "Confidence",
        format="%.2f",
        help="the model's calibrated probability of the first post's label (docs/MODEL.md)",
    ),
    "relevance": st.column_config.NumberColumn(
        "Relevance", format="%.1f", help="how much the first post is about this ticker (0.2-1)"
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
COPY_COLUMNS = {
    "story": st.column_config.TextColumn("Story", width="medium"),
    "time": st.column_config.DatetimeColumn("Time (UTC)", format="YYYY-MM-DD HH:mm:ss"),
    "first": st.column_config.CheckboxColumn("First", help="the post shown for the story"),
    "source": st.column_config.TextColumn("Source"),
    "text": st.column_config.TextColumn("Text", width="large"),
    "url": st.column_config.LinkColumn("Link", display_text="open"),
}


def render_stories(
    posts: list[dict[str, Any]],
    *,
    key: str,
    symbol: str | None = None,
    min_relevance: float = 0.0,
) -> None:
    """The stories of ``posts`` (``key`` names the tables: ``<key>_table``,
    ``<key>_copies``); with ``symbol``, each story's figures are toward that ticker and
    those naming it below ``min_relevance`` are greyed."""
    if not posts:
        st.caption("No posts stored yet." if symbol is None else "No posts stored for this ticker.")
        return
    groups = group_by_story(posts)[:SHOWN]
    frame = story_frame(groups, symbol, min_relevance)
    styled = frame.style.map(score_colour, subset=["score"]).apply(_grey_low, axis=1)
    columns = STORY_COLUMNS if symbol else _without(STORY_COLUMNS, "relevance", "low_relevance")
    st.dataframe(
        styled,
        key=f"{key}_table",
        hide_index=True,
        column_config=columns,
        column_order=list(columns),
        height=360,
        placeholder="—",
    )
    shown = sum(g.copies for g in groups)
    st.caption(f"{len(groups)} stories in the latest {shown} posts")
    render_why([g.first for g in groups], key=key)
    _render_copies(groups, key)
    low = int(frame["low_relevance"].sum())
    if symbol and low:
        st.caption(
            f"{low} of these stories name {symbol} only in passing (relevance below "
            f"{min_relevance:g}): marked low relevance, not counted in its figures."
        )


def _render_copies(groups: list[StoryGroup], key: str) -> None:
    """The copies of the stories with several posts, story by story, in an expander (its
    label does not change with the data, so it stays open across refreshes)."""
    copies = copies_frame(groups)
    if copies.empty:
        return
    with st.expander("Copies of repeated stories"):
        st.dataframe(
            copies,
            key=f"{key}_copies",
            hide_index=True,
            column_config=COPY_COLUMNS,
            height=min(38 + 35 * len(copies), 360),
            placeholder="—",
        )


def _without(columns: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in columns.items() if k not in names}


def _grey_low(row: pd.Series) -> list[str]:
    """Grey out the text of stories naming the ticker below the minimum relevance."""
    style = "color: #9e9e9e" if row["low_relevance"] else ""
    return [style if column in ("text", "entities") else "" for column in row.index]
