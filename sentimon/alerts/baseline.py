"""An entity's own baseline (pure): EWMA of its past windows' mean score, with variance,
and EWMA of its posts per window.

Windows are tumbling, ``W`` seconds long and aligned to the epoch: window ``i`` covers
event time ``[i*W, (i+1)*W)``. A window is folded in once event time has moved past it.
Early on the weight is ``max(alpha, 1/(n+1))``, so the first windows give their plain
mean and population variance and the estimate turns into an EWMA after ``1/alpha``.
The variance update is the incremental EWM form ``var' = (1-a)(var + a*d^2)`` with
``d = x - mean``.

Only windows with at least ``min_count`` posts move the score baseline (a window of one
post says little about the mean); every window, empty ones included, moves the rate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from sentimon.windows import Stats


@dataclass(frozen=True)
class Baseline:
    mean: float = 0.0
    var: float = 0.0
    #: windows folded into mean/var
    windows: int = 0
    #: EWMA of posts per window
    rate: float = 0.0
    #: windows folded into the rate (empty ones included)
    rate_windows: int = 0
    #: index of the last tumbling window folded (None: nothing folded yet)
    last: int | None = None

    @property
    def std(self) -> float:
        return math.sqrt(max(self.var, 0.0))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baseline:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _weight(alpha: float, seen: int) -> float:
    return max(alpha, 1.0 / (seen + 1))


def fold_window(b: Baseline, index: int, stats: Stats, *, alpha: float, min_count: int) -> Baseline:
    """Fold tumbling window ``index`` (its stats) into the baseline."""
    a = _weight(alpha, b.rate_windows)
    rate = b.rate + a * (stats.count - b.rate)
    out = replace(b, rate=rate, rate_windows=b.rate_windows + 1, last=index)
    mean = stats.mean_score
    if mean is None or stats.count < min_count:
        return out
    w = _weight(alpha, b.windows)
    diff = mean - b.mean
    return replace(
        out,
        mean=b.mean + w * diff,
        var=(1.0 - w) * (b.var + w * diff * diff),
        windows=b.windows + 1,
    )


def fold_empty(b: Baseline, last_index: int, count: int, *, alpha: float) -> Baseline:
    """Fold ``count`` empty windows ending at ``last_index`` (rate decays, mean stays)."""
    out = b
    for _ in range(min(count, 64)):  # weight is alpha after a few windows; cap the loop
        a = _weight(alpha, out.rate_windows)
        out = replace(out, rate=out.rate * (1.0 - a), rate_windows=out.rate_windows + 1)
    if count > 64:
        out = replace(out, rate=out.rate * (1.0 - alpha) ** (count - 64),
                      rate_windows=out.rate_windows + count - 64)
    return replace(out, last=last_index)


def window_index(ts_ms: int, window_s: int) -> int:
    """Tumbling window that contains event time ``ts_ms``."""
    return (ts_ms // 1000) // window_s


def window_minutes(index: int, window_s: int) -> tuple[int, int]:
    """First and last minute start (epoch s) of tumbling window ``index``."""
    start = index * window_s
    return start, start + window_s - 60


def z_score(mean: float, b: Baseline, min_std: float) -> float:
    """How many baseline standard deviations ``mean`` is from the baseline mean."""
    return (mean - b.mean) / max(b.std, min_std)
