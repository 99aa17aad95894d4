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


def score_volume_spec(*, height: int = 330) -> dict[str, Any]:
    """Top: the mean score line with its ±1 stderr band; bottom: posts per bin. The two
    share the time scale: scroll or drag to zoom and pan, double-click to reset."""
    top = int(height * 0.7)
    return {
        "vconcat": [
            {
                "width": "container",
                "height": top,
                "layer": [
                    {
                        "mark": {"type": "area", "color": BLUE, "opacity": 0.2},
                        "encoding": {
                            "x": {**_TIME, "title": None},
                            "y": {"field": "lo", "type": "quantitative"},
                            "y2": {"field": "hi"},
                        },
                    },
                    {
                        "mark": {"type": "line", "color": BLUE, "point": False},
                        "params": [
                            {
                                "name": "zoom",
                                "select": {"type": "interval", "encodings": ["x"]},
                                "bind": "scales",
                            }
                        ],
                        "encoding": {
                            "x": {**_TIME, "title": None},
                            "y": {
                                "field": "mean",
                                "type": "quantitative",
                                "title": "mean score",
                                "scale": {"domain": [-1, 1]},
                            },
                            "tooltip": _tooltip(),
                        },
                    },
                ],
            },
            {
                "width": "container",
                "height": height - top,
                "mark": {"type": "bar", "color": GREY},
                "encoding": {
                    "x": {**_TIME, "title": "event time (UTC)"},
                    "y": {"field": "count", "type": "quantitative", "title": "posts"},
                    "tooltip": _tooltip(),
                },
            },
        ],
        "resolve": {"scale": {"x": "shared"}},
    }


def _tooltip() -> list[dict[str, Any]]:
    return [
        {"field": "utc", "type": "nominal", "title": "bin start"},
        {"field": "mean", "type": "quantitative", "format": "+.3f", "title": "mean score"},
        {"field": "count", "type": "quantitative", "title": "posts"},
        {"field": "negative_share", "type": "quantitative", "format": ".0%", "title": "negative"},
    ]
