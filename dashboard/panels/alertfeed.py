"""Alerts feed: firing and resolved alerts, newest first, severity-coloured, with the
statistics that triggered them and their top posts; silences listed."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.alertview import AlertEvent, open_alerts
from dashboard.timefmt import utc

CARDS = 25
_STAT_NAMES = {
    "mean": "mean", "mean_score": "mean", "baseline": "baseline", "z": "z", "count": "posts",
    "negative_share": "neg share", "rate": "rate", "threshold": "threshold",
}


def render_feed(events: list[AlertEvent], silences: list[dict[str, Any]]) -> None:
    firing = open_alerts(events)
    cols = st.columns(3)
    cols[0].metric("Open (firing)", len(firing))
    cols[1].metric("Events shown", len(events))
    cols[2].metric("Active silences", len(silences))
    if not events:
        st.info("No alerts in this namespace yet.")
    else:
        wanted = st.segmented_control(
            "Status", ["firing", "resolved"], selection_mode="multi",
            default=["firing", "resolved"], key="alert_status",
        )
        shown = [e for e in events if e.status in (wanted or [])]
        render_cards(shown[:CARDS])
        if len(shown) > CARDS:
            st.caption(f"{len(shown) - CARDS} older events not shown.")
    render_silences(silences)


def render_cards(events: list[AlertEvent]) -> None:
    for event in events:
        with st.container(border=True):
            render_card(event)


def render_card(event: AlertEvent) -> None:
    st.markdown(
        f":{event.severity_colour}-badge[{event.severity}] "
        f":{event.status_colour}-badge[{event.status}] **{event.rule}** · `{event.entity}`"
    )
    start, end = event.window
    st.caption(
        f"{utc(event.ts_ms)} · window {utc(start)} → {utc(end)}"
        + (f" · {event.kind}" if event.kind else "")
    )
    line = stats_line(event.stats)
    if line:
        st.markdown(line)
    if event.posts:
        with st.expander(f"Top posts ({len(event.posts)})"):
            for post in event.posts[:5]:
                st.markdown(post_line(post))


def stats_line(stats: dict[str, Any]) -> str:
    parts = []
    for key, label in _STAT_NAMES.items():
        value = stats.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            parts.append(f"{label} **{value:.3g}**" if isinstance(value, float) else f"{label} **{value}**")
    return " · ".join(parts)


def post_line(post: dict[str, Any]) -> str:
    score = post.get("score")
    colour = "gray" if not isinstance(score, int | float) else ("red" if score < 0 else "green")
    shown = f"{score:+.2f}" if isinstance(score, int | float) else "?"
    text = str(post.get("text") or "").replace("\n", " ")[:200]
    url = post.get("url")
    link = f" [link]({url})" if url else ""
    return f":{colour}[{shown}] {text}{link}"


def render_silences(silences: list[dict[str, Any]]) -> None:
    if not silences:
        st.caption("No active silences.")
        return
    st.markdown("**Silences**")
    rows = [
        {
            "match": s.get("match") or s.get("matchers"),
            "until (UTC)": utc(s.get("until_ms") or s.get("ends_ms")),
            "reason": s.get("reason"),
            "by": s.get("created_by") or s.get("author"),
        }
        for s in silences
    ]
    st.dataframe(rows, hide_index=True, key="silences_table")
