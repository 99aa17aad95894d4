"""What a namespace is: the live one, or a backtest with its range and summary."""

from __future__ import annotations

import json

import streamlit as st

from dashboard.timefmt import utc

#: meta fields every namespace has; anything else is a backtest's summary.
_COMMON = {"watermark_ms", "model", "last_batch_ms"}
_RANGE_PAIRS = (("from_ms", "to_ms"), ("range_from_ms", "range_to_ms"), ("start_ms", "end_ms"))


def backtest_range(meta: dict[str, str]) -> tuple[int, int] | None:
    for start, end in _RANGE_PAIRS:
        if start in meta and end in meta:
            try:
                return int(meta[start]), int(meta[end])
            except ValueError:
                continue
    return None


def summary_rows(meta: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for key in sorted(set(meta) - _COMMON):
        value = meta[key]
        if key.endswith("_ms") and value.lstrip("-").isdigit():
            value = utc(int(value))
        elif value.startswith(("{", "[")):
            value = _compact(value)
        rows.append({"field": key, "value": value})
    return rows


def render_backtest(namespace: str, meta: dict[str, str]) -> None:
    """A banner with the replayed range and the summary, when the namespace has one."""
    span = backtest_range(meta)
    if span is None and not namespace.startswith("bt:"):
        return
    where = f"{utc(span[0])} → {utc(span[1])}" if span else "range not recorded"
    with st.expander(f"Backtest `{namespace}` · {where}", expanded=False):
        rows = summary_rows(meta)
        if rows:
            st.dataframe(rows, hide_index=True, key="backtest_summary")
        else:
            st.caption("No summary recorded for this backtest.")


def _compact(value: str) -> str:
    try:
        return json.dumps(json.loads(value), separators=(", ", ": "))
    except ValueError:
        return value
