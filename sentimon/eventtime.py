"""Which event times a pipeline trusts (pure: no Kafka, no Redis).

A post carries its own event time (``ts``), and upstream feeds get it wrong in practice: a
wrong year, a time-zone bug, seconds mistaken for milliseconds. One such post must not
move the watermark decades ahead or make a batch span decades of windows. As Flink's
bounded out-of-orderness and Kafka Streams' grace periods do, the live consumer trusts an
event time only within bounds relative to processing time (default: 5 minutes ahead,
7 days behind). A post outside them is dead-lettered with the reason rather than clamped
to its record time: a clamped post would be counted in a window it does not belong to,
while the dead letter keeps the original bytes, and a replay with its own bounds can take
it back in once its time is fixed.

Replays and backtests read history, so their bounds come from the requested range (any
time the contract accepts when the range is open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sentimon.windows import format_window


@dataclass(frozen=True)
class EventTimePolicy:
    """Event-time bounds: relative to processing time (live) and/or absolute (replays).

    ``max_ahead_ms``/``max_behind_ms``: how far an event time may lie after/before the
    processing time (None: no relative bound). ``from_ms``/``to_ms``: absolute bounds,
    ``from_ms <= t < to_ms`` (None: open on that side).
    """

    max_ahead_ms: int | None = None
    max_behind_ms: int | None = None
    from_ms: int | None = None
    to_ms: int | None = None

    @classmethod
    def live(cls, *, max_ahead_s: int, max_behind_s: int) -> EventTimePolicy:
        return cls(max_ahead_ms=max_ahead_s * 1000, max_behind_ms=max_behind_s * 1000)

    @classmethod
    def between(cls, from_ms: int | None, to_ms: int | None) -> EventTimePolicy:
        """A replay's or backtest's bounds: its requested range (open sides stay open)."""
        return cls(from_ms=from_ms, to_ms=to_ms)

    def bounds(self, now_ms: int) -> tuple[int | None, int | None]:
        """Accepted event times at processing time ``now_ms``: ``lo <= t < hi``."""
        lo = self.from_ms
        if self.max_behind_ms is not None:
            rel = now_ms - self.max_behind_ms
            lo = rel if lo is None else max(lo, rel)
        hi = self.to_ms
        if self.max_ahead_ms is not None:
            rel = now_ms + self.max_ahead_ms + 1
            hi = rel if hi is None else min(hi, rel)
        return lo, hi

    def reject_reason(self, ts_ms: int, now_ms: int) -> str | None:
        """Why ``ts_ms`` is not trusted at processing time ``now_ms`` (None: it is)."""
        lo, hi = self.bounds(now_ms)
        if lo is not None and ts_ms < lo:
            return self._why(ts_ms, now_ms, ahead=False)
        if hi is not None and ts_ms >= hi:
            return self._why(ts_ms, now_ms, ahead=True)
        return None

    def watermark_cap(self, now_ms: int) -> int | None:
        """The highest watermark a batch processed at ``now_ms`` may set (None: no cap)."""
        _, hi = self.bounds(now_ms)
        return None if hi is None else hi - 1

    def describe(self) -> str:
        """The bounds in words, for logs and docs."""
        parts = []
        if self.max_ahead_ms is not None:
            parts.append(f"{_span(self.max_ahead_ms)} ahead")
        if self.max_behind_ms is not None:
            parts.append(f"{_span(self.max_behind_ms)} behind")
        if self.from_ms is not None or self.to_ms is not None:
            parts.append(f"range [{_iso(self.from_ms)}, {_iso(self.to_ms)})")
        return ", ".join(parts) or "any time"

    def _why(self, ts_ms: int, now_ms: int, *, ahead: bool) -> str:
        relative = self.max_ahead_ms if ahead else self.max_behind_ms
        if relative is not None and (
            (ahead and (self.to_ms is None or ts_ms < self.to_ms))
            or (not ahead and (self.from_ms is None or ts_ms >= self.from_ms))
        ):
            gap = abs(ts_ms - now_ms)
            side = "ahead of" if ahead else "behind"
            return (
                f"event time {_iso(ts_ms)} is {_span(gap)} {side} processing time "
                f"(allowed: {self.describe()}); fix the feed's ts, or replay it with a range"
            )
        return f"event time {_iso(ts_ms)} is outside the range ({self.describe()})"


def _iso(ms: int | None) -> str:
    if ms is None:
        return "open"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(ms: int) -> str:
    """A duration in the largest unit that reads naturally (``73y``, ``5m``, ``42s``)."""
    seconds = ms // 1000
    year = 365 * 86400
    if seconds >= 2 * year:
        return f"{seconds // year}y"
    if seconds >= 60 and seconds % 60 == 0:
        return format_window(seconds)
    if seconds >= 86400:
        return f"{seconds // 86400}d"
    if seconds >= 3600:
        return f"{seconds // 3600}h"
    if seconds >= 60:
        return f"{seconds // 60}m"
    return f"{seconds}s"
