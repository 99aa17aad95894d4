"""Event-time bucket and window arithmetic (pure).

Buckets are event-time minutes. A window of W seconds ending at ``end_ms`` is half-open:
it covers the W/60 minute buckets that start in ``[end_ms - W, end_ms)``, as a replay's
``--to`` is exclusive. An end exactly on a minute boundary leaves that minute out (a 24 h
window ending at midnight is exactly the previous day); a mid-minute end, such as the
watermark, keeps its own minute in view. ``last_minute_of_window`` is the one place that
rule lives; ``WindowRange`` gives a window's minutes and hours from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sentimon.errors import ConfigError

MINUTE = 60
HOUR = 3600
_WINDOW_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT = {"s": 1, "m": MINUTE, "h": HOUR, "d": 86400}


def parse_window(text: str) -> int:
    """``'5m'`` -> 300. Windows are whole minutes: 1m ... 30d."""
    match = _WINDOW_RE.match(text)
    if not match:
        raise ConfigError(f"window {text!r}: use a number and a unit, like 5m, 1h or 24h")
    seconds = int(match.group(1)) * _UNIT[match.group(2)]
    if seconds < MINUTE or seconds % MINUTE or seconds > 30 * 86400:
        raise ConfigError(f"window {text!r}: must be whole minutes between 1m and 30d")
    return seconds


def format_window(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", HOUR), ("m", MINUTE)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def minute_of(ts_ms: int) -> int:
    """Epoch second at which the minute containing ``ts_ms`` starts."""
    return (ts_ms // 1000) // MINUTE * MINUTE


def hour_of(ts_s: int) -> int:
    return ts_s // HOUR * HOUR


def last_minute_of_window(end_ms: int) -> int:
    """Start (epoch s) of the last minute bucket of a window ending at ``end_ms``: the
    latest minute that starts before ``end_ms`` (windows are half-open)."""
    return minute_of(end_ms - 1)


@dataclass(frozen=True)
class WindowRange:
    """The minute buckets of a window, ``first_minute..last_minute`` (epoch s, inclusive):
    those that start in ``[end - W, end)``. Every reader derives its minutes and hours from
    here, so windows, series, rankings and roll-ups agree on where a window ends."""

    first_minute: int
    last_minute: int

    @classmethod
    def ending_at(cls, end_ms: int, seconds: int) -> WindowRange:
        """The window of ``seconds`` (whole minutes) ending at ``end_ms``."""
        last = last_minute_of_window(end_ms)
        return cls(last - seconds + MINUTE, last)

    @property
    def first_hour(self) -> int:
        """Start of the hour the window's first minute lies in."""
        return hour_of(self.first_minute)

    @property
    def last_hour(self) -> int:
        """Start of the hour the window's last minute lies in."""
        return hour_of(self.last_minute)

    def hours(self) -> range:
        """Starts of every hour the window touches, oldest first."""
        return range(self.first_hour, self.last_hour + HOUR, HOUR)


@dataclass(frozen=True)
class HourSpan:
    """Part of a window inside one hour: minutes ``first..last`` (0-59) of ``hour_s``."""

    hour_s: int
    first: int
    last: int

    @property
    def full(self) -> bool:
        return self.first == 0 and self.last == 59


def window_spans(end_ms: int, seconds: int) -> list[HourSpan]:
    """Hour spans covering the window ending at ``end_ms`` (``WindowRange``), oldest first."""
    window = WindowRange.ending_at(end_ms, seconds)
    spans = []
    for hour in window.hours():
        lo = max(window.first_minute, hour)
        hi = min(window.last_minute, hour + HOUR - MINUTE)
        spans.append(HourSpan(hour, (lo - hour) // MINUTE, (hi - hour) // MINUTE))
    return spans


#: Scores are stored as integer micro-units, so sums are exact and order-independent
#: (a replay batched differently gives bit-identical aggregates).
SCORE_SCALE = 1_000_000


def quantize(score: float) -> int:
    """A score in [-1, 1] as integer micro-units."""
    return round(score * SCORE_SCALE)


@dataclass(frozen=True)
class Stats:
    """Counts and score moments of a bucket or a window (sums in micro-units)."""

    count: int = 0
    positive: int = 0
    neutral: int = 0
    negative: int = 0
    s_micro: int = 0
    ss_micro: int = 0

    @classmethod
    def of_post(cls, label: str, score: float) -> Stats:
        q = quantize(score)
        return cls(
            count=1,
            positive=int(label == "positive"),
            neutral=int(label == "neutral"),
            negative=int(label == "negative"),
            s_micro=q,
            ss_micro=round(q * q / SCORE_SCALE),
        )

    @classmethod
    def total(cls, parts: Sequence[Stats]) -> Stats:
        """The sum of ``parts`` (one object, not one per addition)."""
        if len(parts) == 1:
            return parts[0]
        return cls(
            sum(p.count for p in parts),
            sum(p.positive for p in parts),
            sum(p.neutral for p in parts),
            sum(p.negative for p in parts),
            sum(p.s_micro for p in parts),
            sum(p.ss_micro for p in parts),
        )

    def __add__(self, other: Stats) -> Stats:
        return Stats(
            self.count + other.count,
            self.positive + other.positive,
            self.neutral + other.neutral,
            self.negative + other.negative,
            self.s_micro + other.s_micro,
            self.ss_micro + other.ss_micro,
        )

    def __sub__(self, other: Stats) -> Stats:
        return Stats(
            self.count - other.count,
            self.positive - other.positive,
            self.neutral - other.neutral,
            self.negative - other.negative,
            self.s_micro - other.s_micro,
            self.ss_micro - other.ss_micro,
        )

    @property
    def score_sum(self) -> float:
        return self.s_micro / SCORE_SCALE

    @property
    def score_sumsq(self) -> float:
        return self.ss_micro / SCORE_SCALE

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.count if self.count else None

    @property
    def std_score(self) -> float | None:
        """Population standard deviation of the score."""
        if not self.count:
            return None
        mean = self.score_sum / self.count
        return math.sqrt(max(self.score_sumsq / self.count - mean * mean, 0.0))

    @property
    def stderr(self) -> float | None:
        std = self.std_score
        return None if std is None else std / math.sqrt(self.count)

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.count if self.count else None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "count": self.count,
            "positive": self.positive,
            "neutral": self.neutral,
            "negative": self.negative,
            "mean_score": _round(self.mean_score),
            "std_score": _round(self.std_score),
            "negative_share": _round(self.negative_share),
        }

    @classmethod
    def from_values(cls, values: list[object]) -> Stats:
        """From Redis replies for fields ``n pos neu neg s ss`` (missing fields are 0)."""
        n, pos, neu, neg, s, ss = (int(v) if v is not None else 0 for v in values)  # type: ignore[call-overload]
        return cls(n, pos, neu, neg, s, ss)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
