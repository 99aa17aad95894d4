"""Spike detection (pure): one rule, one entity's current window and baseline -> a signal.

A rule's ``hours`` (``limit_hours``) keeps it from opening outside the exchange's regular
sessions (``market``) or inside them (``closed``).

A signal says whether the opening condition holds (``active``) and whether the looser
resolve condition holds (``cleared``). Too few posts or a baseline still warming up give
neither an opening nor a reason to stay open: ``active=False, cleared=True``.

A rule counting stories is measured the same way on the stories begun in its window
(``count`` = stories, ``negative`` = negative stories, score sum by each story's first
post) and on a baseline of stories per window; stories carry no sum of squares, so their
spread is not reported (``std``, ``baseline_std``: None).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from sentimon.alerts.baseline import Baseline, z_score
from sentimon.alerts.rules import Rule
from sentimon.windows import Stats


@dataclass(frozen=True)
class Signal:
    active: bool
    cleared: bool
    #: the measured value the thresholds apply to (z, share or ratio); None if not measured
    value: float | None = None
    window: Stats = field(default_factory=Stats)
    baseline: Baseline | None = None
    window_s: int = 60
    #: what ``value`` is: "z", "ratio" or "negative_share" ("" when nothing was measured)
    metric: str = ""
    #: why nothing was measured: "min_count", "warmup", "" or, when the rule's ``hours``
    #: kept a met condition from opening, "hours"
    reason: str = ""
    #: whether ``window`` (and the baseline) count stories rather than posts
    stories: bool = False

    @property
    def stats(self) -> dict[str, Any]:
        """The statistics behind the signal, for the payload (built only when needed)."""
        w, b = self.window, self.baseline
        info: dict[str, Any] = {
            "count": w.count,
            "mean": _r(w.mean_score),
            "std": _r(w.std_score),
            "negative_share": _r(w.negative_share),
            "rate_per_min": _r(w.count / (self.window_s / 60)),
        }
        if b is not None:
            info |= {
                "baseline_mean": _r(b.mean),
                "baseline_std": _r(b.std),
                "baseline_rate": _r(b.rate),
                "baseline_windows": b.windows,
            }
            if b.seasonal_weight:
                info["baseline_seasonal_days"] = b.seasonal_days
                info["baseline_seasonal_weight"] = b.seasonal_weight
        if self.stories:  # no sum of squares for stories: no spread to report
            info["std"] = None
            if b is not None:
                info["baseline_std"] = None
        if self.reason:
            info["reason"] = self.reason
        if self.metric in ("z", "ratio"):
            info[self.metric] = _r(self.value)
        return info


def measure(rule: Rule, window: Stats, baseline: Baseline | None) -> Signal:
    """Evaluate ``rule`` on the window's stats and the entity's baseline (of stories when
    the rule counts them: the signal says so)."""
    signal = _measure(rule, window, baseline)
    return replace(signal, stories=True) if rule.counts_stories else signal


def _measure(rule: Rule, window: Stats, baseline: Baseline | None) -> Signal:
    b = baseline if rule.uses_baseline else None
    if window.count < rule.min_count:
        return Signal(False, True, None, window, b, rule.window_s, reason="min_count")
    if rule.kind == "negative_share":
        share = window.negative_share or 0.0
        return Signal(
            share >= rule.threshold,
            share < rule.resolve,
            share,
            window,
            None,
            rule.window_s,
            "negative_share",
        )
    if b is None or _warming(rule, b):
        return Signal(False, True, None, window, b, rule.window_s, reason="warmup")
    if rule.kind == "volume_spike":
        ratio = window.count / max(b.rate, rule.min_rate)
        return Signal(
            ratio >= rule.threshold, ratio < rule.resolve, ratio, window, b, rule.window_s, "ratio"
        )
    z = z_score(window, b, rule.min_stderr)
    if rule.kind == "sentiment_drop":
        return Signal(z <= -rule.threshold, z > -rule.resolve, z, window, b, rule.window_s, "z")
    return Signal(z >= rule.threshold, z < rule.resolve, z, window, b, rule.window_s, "z")


def limit_hours(rule: Rule, signal: Signal, in_session: bool) -> Signal:
    """The signal under the rule's ``hours``: outside them it cannot open (``active``
    False, reason "hours"); ``cleared`` is kept, so an open alert resolves as usual."""
    allowed = rule.hours == "any" or (in_session == (rule.hours == "market"))
    if allowed or not signal.active:
        return signal
    return replace(signal, active=False, reason="hours")


def _warming(rule: Rule, baseline: Baseline) -> bool:
    seen = baseline.rate_windows if rule.kind == "volume_spike" else baseline.windows
    return seen < rule.warmup_windows


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
