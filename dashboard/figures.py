"""Vega-Lite charts (``st.vega_lite_chart``): mean score with a ± standard-error band over
volume bars, on a UTC time axis.

Vega-Lite rather than Plotly because the page refreshes every few seconds: Streamlit
updates a Vega-Lite chart's data in place when only the data changed (zoom and hover
survive), whereas a Plotly chart is re-mounted on every change and blinks.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

BLUE = "#1f77b4"
GREY = "#9e9e9e"
ORANGE = "#e08a00"
_TIME = {
    "field": "time",
    "type": "temporal",
    "scale": {"type": "utc"},
    "axis": {"format": "%H:%M", "labelOverlap": True},
}


def chart_data(frame: pd.DataFrame) -> pd.DataFrame:
    """The series frame plus a UTC label column for tooltips."""
    out = frame.copy()
    out["utc"] = out["time"].dt.strftime("%Y-%m-%d %H:%M UTC")
    return out


def score_volume_spec(*, height: int = 320, stories: bool = False) -> dict[str, Any]:
    """One view, two y axes: posts per bin as light bars (right axis) behind the mean score
    line with its ±1 stderr band (left axis, -1..1); with ``stories``, the stories begun
    per bin as orange bars over the posts (same axis: a burst of copies is a tall grey bar
    with a short orange one). Scroll or drag to zoom and pan the time axis, double-click
    to reset. The spec does not depend on the data, so refreshes only swap the data."""
    x = {**_TIME, "title": "event time (UTC)"}
    return {
        "width": "container",
        "height": height,
        "layer": [
            _volume(x, stories),
            {
                # bins without posts have no mean: leave them out so the line spans gaps
                "transform": [{"filter": "isValid(datum.mean)"}],
                "layer": [
                    {
                        "mark": {"type": "area", "color": BLUE, "opacity": 0.2},
                        "encoding": {
                            "x": x,
                            "y": {"field": "lo", "type": "quantitative"},
                            "y2": {"field": "hi"},
                        },
                    },
                    {
                        "mark": {
                            "type": "line",
                            "color": BLUE,
                            "point": {"filled": True, "size": 14, "color": BLUE},
                        },
                        "params": [
                            {
                                "name": "zoom",
                                "select": {"type": "interval", "encodings": ["x"]},
                                "bind": "scales",
                            }
                        ],
                        "encoding": {
                            "x": x,
                            "y": {
                                "field": "mean",
                                "type": "quantitative",
                                "title": "mean score",
                                "scale": {"domain": [-1, 1]},
                            },
                            "tooltip": _tooltip(stories),
                        },
                    },
                ],
            },
        ],
        "resolve": {"scale": {"y": "independent"}},
    }


def _volume(x: dict[str, Any], stories: bool) -> dict[str, Any]:
    """The volume layer: posts per bin, and with ``stories`` the stories begun over them."""
    title = "posts · stories" if stories else "posts"
    posts = {
        "mark": {"type": "bar", "color": GREY, "opacity": 0.35},
        "encoding": {
            "x": x,
            "y": {
                "field": "count",
                "type": "quantitative",
                "title": title,
                "axis": {"orient": "right", "grid": False},
            },
            "tooltip": _tooltip(stories),
        },
    }
    if not stories:
        return posts
    begun = {
        "mark": {"type": "bar", "color": ORANGE, "opacity": 0.7, "width": {"band": 0.5}},
        "encoding": {
            "x": x,
            "y": {"field": "stories", "type": "quantitative", "title": title},
            "tooltip": _tooltip(stories),
        },
    }
    return {"layer": [posts, begun]}


def _tooltip(stories: bool = False) -> list[dict[str, Any]]:
    fields = [
        {"field": "utc", "type": "nominal", "title": "bin start"},
        {"field": "mean", "type": "quantitative", "format": "+.3f", "title": "mean score"},
        {"field": "count", "type": "quantitative", "title": "posts"},
        {"field": "negative_share", "type": "quantitative", "format": ".0%", "title": "negative"},
    ]
    if stories:
        fields.insert(3, {"field": "stories", "type": "quantitative", "title": "stories begun"})
    return fields
