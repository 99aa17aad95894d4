"""What a namespace is: the live one, or a backtest with its range and summary.

A replay or file backtest records in the namespace's ``meta`` hash ``kind=backtest``,
``status``, ``source``, the event-time range ``range_from_ms``/``range_to_ms``, the model
and rules, and when finished a ``summary`` JSON (messages, alerts per rule, tickers,
throughput; see ``sentimon.replay``).
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from dashboard.timefmt import utc

BACKTEST_PREFIX = "bt:"


def is_backtest(namespace: str, meta: dict[str, str]) -> bool:
    return (
        namespace.startswith(BACKTEST_PREFIX)
        or meta.get("kind") == "backtest"
        or "range_from_ms" in meta
    )


def backtest_range(meta: dict[str, str]) -> tuple[int | None, int | None]:
    return _int(meta.get("range_from_ms")), _int(meta.get("range_to_ms"))


def summary_of(meta: dict[str, str]) -> dict[str, Any]:
    try:
        value = json.loads(meta.get("summary") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def per_rule_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per rule: alerts opened, firing and resolved notices."""
    per_rule = (summary.get("alerts") or {}).get("per_rule") or {}
    return [
        {
            "rule": rule,
            "alerts": counts.get("alerts", 0),
            "firing": counts.get("firing", 0),
            "resolved": counts.get("resolved", 0),
        }
        for rule, counts in sorted(per_rule.items())
    ]


def headline(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs for the metrics row."""
    messages = summary.get("messages")
    alerts = summary.get("alerts") or {}
    tickers = summary.get("tickers") or {}
    out = []
    if isinstance(messages, dict):
        main = messages.get("scored", messages.get("read"))
        out.append(("Messages scored", _count(main)))
    elif messages is not None:
        out.append(("Messages", _count(messages)))
    out.append(("Alerts opened", _count(alerts.get("alerts"))))
    out.append(("Alert events", _count(alerts.get("events"))))
    out.append(("Tickers", _count(tickers.get("count"))))
    return out


def render_backtest(namespace: str, meta: dict[str, str]) -> None:
    """A box with the replayed range, status and summary, when the namespace is a backtest."""
    if not is_backtest(namespace, meta):
        return
    start, end = backtest_range(meta)
    summary = summary_of(meta)
    with st.container(border=True, key="backtest_box"):
        status = meta.get("status") or "unknown"
        source = meta.get("source") or "—"
        st.markdown(
            f"**Backtest** `{namespace}` · :blue-badge[{status}] · source {source} · "
            f"range **{utc(start)} → {utc(end)}**"
        )
        if not summary:
            st.caption("No summary yet (the run is in progress or wrote none).")
            return
        cols = st.columns(len(headline(summary)))
        for col, (label, value) in zip(cols, headline(summary), strict=True):
            col.metric(label, value)
        rows = per_rule_rows(summary)
        if rows:
            st.dataframe(rows, hide_index=True, key="backtest_rules")
        with st.expander("Full summary"):
            st.json(summary, expanded=False)


def _count(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else ("—" if value is None else str(value))


def _int(raw: str | None) -> int | None:
    try:
        return int(raw) if raw not in (None, "") else None
    except ValueError:
        return None
