"""Time formatting for the dashboard: everything is shown in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd


def utc(ts_ms: int | None) -> str:
    """``2026-10-26 07:33:20 UTC`` (or an em dash when unknown)."""
    if ts_ms is None:
        return "—"
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def utc_ts(ts_ms: int | float) -> pd.Timestamp:
    """A timezone-aware UTC timestamp (for table columns and chart axes)."""
    return pd.Timestamp(int(ts_ms), unit="ms", tz="UTC")


def ago(seconds: float | None) -> str:
    """``4 s ago``, ``3 min ago``, ``2.5 h ago``."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return f"{max(seconds, 0):.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"
