"""Plotly figures: mean score with a ± standard-error band over volume bars."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BAND = "rgba(31, 119, 180, 0.18)"
LINE = "#1f77b4"
BARS = "rgba(120, 120, 120, 0.55)"


def score_volume(frame: pd.DataFrame, *, height: int = 360) -> go.Figure:
    """Top: mean score per bin with its ±1 stderr band; bottom: posts per bin. UTC axis."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.68, 0.32], vertical_spacing=0.04
    )
    scored = frame.dropna(subset=["mean"])
    fig.add_trace(_band_edge(scored, "hi", None), row=1, col=1)
    fig.add_trace(_band_edge(scored, "lo", "tonexty"), row=1, col=1)
    fig.add_trace(
        go.Scatter(
            x=scored["time"], y=scored["mean"], mode="lines", name="mean score",
            line={"color": LINE, "width": 2},
            hovertemplate="%{x|%H:%M} UTC<br>mean %{y:.3f}<extra></extra>",
        ),
        row=1, col=1,
    )
    fig.add_trace(
        go.Bar(
            x=frame["time"], y=frame["count"], name="posts", marker_color=BARS,
            hovertemplate="%{x|%H:%M} UTC<br>%{y} posts<extra></extra>",
        ),
        row=2, col=1,
    )
    fig.update_yaxes(title_text="mean score", range=[-1.05, 1.05], row=1, col=1)
    fig.update_yaxes(title_text="posts", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(title_text="event time (UTC)", row=2, col=1)
    fig.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False,
        hovermode="x unified", bargap=0.1,
    )
    return fig


def _band_edge(frame: pd.DataFrame, column: str, fill: str | None) -> go.Scatter:
    return go.Scatter(
        x=frame["time"], y=frame[column], mode="lines", line={"width": 0}, fill=fill,
        fillcolor=BAND, hoverinfo="skip", showlegend=False, name=f"±stderr {column}",
    )
