"""An entity's own baseline (pure): EWMA of its past windows' mean score and of the spread
of its posts around that mean, plus an EWMA of its posts per window.

Windows are tumbling, ``W`` seconds long and aligned to the epoch: window ``i`` covers
event time ``[i*W, (i+1)*W)``. A window is folded in once event time has moved past it.

- ``mean``: EWMA of window means (each window one observation, weight ``w``);
- ``var``: EWMA of each window's mean squared deviation of its posts from the baseline
  mean, ``ss/n - 2*mean*s/n + mean^2`` -- the per-post variance around the baseline,
  between-window drift included;
- ``rate``: EWMA of posts per window, empty windows included.

The weight is ``w = max(alpha, 1/(k+1))`` after ``k`` windows, so the first windows give
their plain average and the estimate becomes an EWMA after ``1/alpha`` windows. Windows
with fewer than ``min_posts`` posts move only the rate.

A window mean of ``n`` posts then has a z-score ``(m - mean) / sqrt(var / n)``: the
deviation in standard errors, so a sparse ticker needs a bigger move than a busy one.
``min_stderr`` floors the denominator, so very busy entities do not alert on tiny moves.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

from sentimon.windows import Stats

#: At most this many past windows are read back when event time jumps ahead; older
#: skipped windows are folded as empty (no batch touched the entity then).
MAX_FOLD_READS = 6


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
        """Standard deviation of a single post's score around the baseline mean."""
        return math.sqrt(max(self.var, 0.0))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baseline:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _weight(alpha: float, seen: int) -> float:
    return max(alpha, 1.0 / (seen + 1))


def fold_window(b: Baseline, index: int, stats: Stats, *, alpha: float, min_posts: int) -> Baseline:
    """Fold tumbling window ``index`` (its stats) into the baseline."""
    a = _weight(alpha, b.rate_windows)
    out = replace(
        b, rate=b.rate + a * (stats.count - b.rate), rate_windows=b.rate_windows + 1, last=index
    )
    if stats.count < max(min_posts, 1):
        return out
    w = _weight(alpha, b.windows)
    m = stats.score_sum / stats.count
    q = stats.score_sumsq / stats.count
    spread = max(q - 2.0 * b.mean * m + b.mean * b.mean, 0.0) if b.windows else max(q - m * m, 0.0)
    return replace(
        out, mean=b.mean + w * (m - b.mean), var=b.var + w * (spread - b.var), windows=b.windows + 1
    )


def fold_empty(b: Baseline, last_index: int, count: int, *, alpha: float) -> Baseline:
    """Fold ``count`` empty windows ending at ``last_index`` (the rate decays)."""
    rate, seen = b.rate, b.rate_windows
    for _ in range(min(count, 64)):
        rate *= 1.0 - _weight(alpha, seen)
        seen += 1
    if count > 64:
        rate *= (1.0 - alpha) ** (count - 64)
        seen += count - 64
    return replace(b, rate=rate, rate_windows=seen, last=last_index)


def window_index(ts_ms: int, window_s: int) -> int:
    """Tumbling window that contains event time ``ts_ms``."""
    return (ts_ms // 1000) // window_s


def window_minutes(index: int, window_s: int) -> tuple[int, int]:
    """First and last minute start (epoch s) of tumbling window ``index``."""
    start = index * window_s
    return start, start + window_s - 60


def z_score(window: Stats, b: Baseline, min_stderr: float) -> float:
    """Standard errors between the window's mean score and the baseline mean."""
    if not window.count:
        return 0.0
    stderr = max(b.std / math.sqrt(window.count), min_stderr)
    return (window.score_sum / window.count - b.mean) / stderr


@dataclass(frozen=True)
class FoldPlan:
    """Which closed windows to fold before evaluating at some event time."""

    start: Baseline
    empties: int = 0
    empty_last: int | None = None
    reads: tuple[int, ...] = ()


def plan_fold(b: Baseline | None, now_ms: int, window_s: int) -> FoldPlan:
    """Closed windows between the baseline's last fold and the window holding ``now_ms``."""
    current = window_index(now_ms, window_s)
    if b is None or b.last is None:
        return FoldPlan(replace(b or Baseline(), last=current - 1))
    if b.last >= current - 1:
        return FoldPlan(b)
    pending = range(b.last + 1, current)
    reads = tuple(pending[-MAX_FOLD_READS:])
    empties = len(pending) - len(reads)
    return FoldPlan(b, empties, reads[0] - 1 if empties else None, reads)


def apply_fold(
    plan: FoldPlan, stats: dict[int, Stats], *, alpha: float, min_posts: int
) -> Baseline:
    """Fold the planned windows, ``stats[index]`` being each read window's sums."""
    b = plan.start
    if plan.empties and plan.empty_last is not None:
        b = fold_empty(b, plan.empty_last, plan.empties, alpha=alpha)
    for index in plan.reads:
        b = fold_window(b, index, stats.get(index, Stats()), alpha=alpha, min_posts=min_posts)
    return b
