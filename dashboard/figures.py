"""Plotly figures: mean score with a ± standard-error band over volume bars."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

BAND = "rgba(31, 119, 180, 0.18)"
LINE = "#1f77b4"
BARS = "rgba(120, 120, 120, 0.55)"


def score_volume(frame: pd.DataFrame, *, height: int = 360) -> go.Figure:
    """Top: mean score per bin with its ±1 stderr band; bottom: posts per bin. UTC axis.

    Two y axes stacked by domain on one shared x axis (cheaper to build than
    ``make_subplots``, which matters at a refresh every few seconds)."""
    scored = frame.dropna(subset=["mean"])
    data: list[dict[str, Any]] = [
        _band_edge(scored, "hi", None),
        _band_edge(scored, "lo", "tonexty"),
        {
            "type": "scatter",
            "x": scored["time"],
            "y": scored["mean"],
            "mode": "lines",
            "name": "mean score",
            "line": {"color": LINE, "width": 2},
            "yaxis": "y2",
            "hovertemplate": "%{x|%H:%M} UTC<br>mean %{y:.3f}<extra></extra>",
        },
        {
            "type": "bar",
            "x": frame["time"],
            "y": frame["count"],
            "name": "posts",
            "marker": {"color": BARS},
            "yaxis": "y",
            "hovertemplate": "%{x|%H:%M} UTC<br>%{y} posts<extra></extra>",
        },
    ]
    layout = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 10, "b": 10},
        "showlegend": False,
        "hovermode": "x unified",
        "bargap": 0.1,
        "xaxis": {"title": {"text": "event time (UTC)"}, "type": "date"},
        "yaxis": {"domain": [0.0, 0.28], "title": {"text": "posts"}, "rangemode": "tozero"},
        "yaxis2": {"domain": [0.34, 1.0], "title": {"text": "mean score"}, "range": [-1.05, 1.05]},
    }
    return go.Figure({"data": data, "layout": layout}, skip_invalid=False)


def _band_edge(frame: pd.DataFrame, column: str, fill: str | None) -> dict[str, Any]:
    edge: dict[str, Any] = {
        "type": "scatter",
        "x": frame["time"],
        "y": frame[column],
        "mode": "lines",
        "line": {"width": 0},
        "fillcolor": BAND,
        "hoverinfo": "skip",
        "showlegend": False,
        "name": f"±stderr {column}",
        "yaxis": "y2",
    }
    if fill:
        edge["fill"] = fill
    return edge
