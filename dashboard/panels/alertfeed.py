"""Alerts feed: firing and resolved alerts, newest first, severity-coloured, with the
statistics that triggered them and their top posts; silences listed."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.alertview import AlertCard
from dashboard.timefmt import utc

CARDS = 25
_STATS = (
    ("count", "posts"),
    ("mean", "mean"),
    ("baseline_mean", "baseline"),
    ("z", "z"),
    ("negative_share", "neg share"),
    ("rate_per_min", "posts/min"),
    ("baseline_rate", "baseline rate"),
    ("ratio", "x baseline"),
)


def render_feed(
    events: list[AlertCard], open_alerts: list[dict[str, Any]], silences: list[dict[str, Any]]
) -> None:
    active = [s for s in silences if s.get("active")]
    cols = st.columns(3)
    cols[0].metric("Open (firing)", len(open_alerts))
    cols[1].metric("Events shown", len(events))
    cols[2].metric("Active silences", len(active))
    if not events:
        st.info("No alerts in this namespace yet.")
    else:
        wanted = st.segmented_control(
            "Show",
            ["firing", "resolved"],
            selection_mode="multi",
            default=["firing", "resolved"],
            key="alert_status",
        )
        shown = [e for e in events if e.status in (wanted or [])]
        render_cards(shown[:CARDS])
        if len(shown) > CARDS:
            st.caption(f"{len(shown) - CARDS} older events not shown.")
    render_silences(silences)


def render_cards(events: list[AlertCard]) -> None:
    for event in events:
        with st.container(border=True):
            render_card(event)


def render_card(event: AlertCard) -> None:
    muted = f" :gray-badge[muted · {event.muted}]" if event.muted else ""
    st.markdown(
        f":{event.severity_colour}-badge[{event.severity}] "
        f":{event.status_colour}-badge[{event.status}] **{event.rule}** · `{event.entity}`" + muted
    )
    start, end = event.window
    st.caption(
        f"{utc(event.ts_ms)} · window {utc(start)} → {utc(end)}"
        + (f" · {event.kind}" if event.kind else "")
        + (f" · model {event.model}" if event.model else "")
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
    for key, label in _STATS:
        value = stats.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        shown = f"{value:,}" if isinstance(value, int) else f"{value:.3g}"
        parts.append(f"{label} **{shown}**")
    return " · ".join(parts)


def post_line(post: dict[str, Any]) -> str:
    score = post.get("score")
    is_num = isinstance(score, int | float)
    colour = "gray" if not is_num else ("red" if score < 0 else "green")  # type: ignore[operator]
    shown = f"{score:+.2f}" if is_num else "?"
    text = str(post.get("text") or "").replace("\n", " ")[:200]
    url = post.get("url")
    link = f" [link]({url})" if url else ""
    return f":{colour}[{shown}] {utc(post.get('ts'))} · {text}{link}"


def render_silences(silences: list[dict[str, Any]]) -> None:
    st.markdown("**Silences**")
    if not silences:
        st.caption("No silences recorded (`sentimon alerts silence --match ticker=X --for 2h`).")
        return
    rows = [
        {
            "active": bool(s.get("active")),
            "match": ", ".join(s.get("matchers") or []),
            "until (UTC)": utc(s.get("expires_ms")),
            "created (UTC)": utc(s.get("created_ms")),
            "reason": s.get("reason"),
            "by": s.get("by"),
            "id": s.get("id"),
        }
        for s in silences
    ]
    st.dataframe(rows, hide_index=True, key="silences_table")
