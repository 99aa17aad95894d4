"""An entity's own baseline (pure): EWMA over its last K closed windows.

Windows are tumbling, ``W`` seconds long and aligned to the epoch: window ``i`` covers
event time ``[i*W, (i+1)*W)``. The hook keeps exact per-window sums (count, score sum,
sum of squares) in Redis, incremented in each batch's atomic write, and the baseline is
computed from the ``K`` windows before the current one each time it is needed. Late or
out-of-order data (a backfill reading partitions one after another) therefore just
lands in the right window, and every evaluation sees a baseline as complete as its
current window.

With window ``k`` (1 = the most recent closed one) weighted ``(1-alpha)^(k-1)``:

- ``mean``: weighted mean of the window means;
- ``var``: weighted mean over windows of the posts' mean squared deviation from
  ``mean`` (``ss/n - 2*mean*s/n + mean^2``): the per-post variance around the baseline,
  drift between windows included;
- ``rate``: weighted mean of posts per window since the entity's first post in the horizon.

Windows with fewer than ``min_posts`` posts count toward the rate only.

A window of ``n`` posts with mean ``m`` has z-score ``(m - mean) / max(sqrt(var/n),
min_stderr)``: the deviation in standard errors, so a sparse ticker needs a bigger move
than a busy one, and ``min_stderr`` keeps very busy entities from alerting on tiny moves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sentimon.windows import Stats

#: Longest history a baseline may use (``baseline_windows`` in a rule).
MAX_WINDOWS = 32


@dataclass(frozen=True)
class Baseline:
    mean: float = 0.0
    var: float = 0.0
    #: windows that moved mean/var (>= min_posts posts)
    windows: int = 0
    rate: float = 0.0
    #: windows the rate covers (since the first non-empty one)
    rate_windows: int = 0
    #: seasonal baselines (``sentimon.alerts.seasonal``): days the tick's time-of-day
    #: slot has seen, and its weight in the blend with the EWMA (0: EWMA only)
    seasonal_days: float = 0.0
    seasonal_weight: float = 0.0

    @property
    def std(self) -> float:
        """Standard deviation of a single post's score around the baseline mean."""
        return math.sqrt(max(self.var, 0.0))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute(history: Sequence[Stats], *, alpha: float, min_posts: int) -> Baseline:
    """Baseline from closed windows, most recent first (``history[0]`` is window k=1)."""
    decay = 1.0 - alpha
    seen = [i for i, w in enumerate(history) if w.count]
    if not seen:
        return Baseline()
    span = seen[-1] + 1
    weights = [decay**i for i in range(span)]
    rate = sum(w * history[i].count for i, w in enumerate(weights)) / sum(weights)
    used = [i for i in range(span) if history[i].count >= max(min_posts, 1)]
    if not used:
        return Baseline(rate=rate, rate_windows=span)
    total = sum(weights[i] for i in used)
    means = {i: history[i].score_sum / history[i].count for i in used}
    mean = sum(weights[i] * means[i] for i in used) / total
    var = (
        sum(
            weights[i]
            * (history[i].score_sumsq / history[i].count - 2 * mean * means[i] + mean * mean)
            for i in used
        )
        / total
    )
    return Baseline(mean, max(var, 0.0), len(used), rate, span)


def window_index(ts_ms: int, window_s: int) -> int:
    """Tumbling window that contains event time ``ts_ms``."""
    return (ts_ms // 1000) // window_s


def z_score(window: Stats, b: Baseline, min_stderr: float) -> float:
    """Standard errors between the window's mean score and the baseline mean."""
    if not window.count:
        return 0.0
    stderr = max(b.std / math.sqrt(window.count), min_stderr)
    return (window.score_sum / window.count - b.mean) / stderr
