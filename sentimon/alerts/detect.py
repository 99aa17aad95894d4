"""Spike detection (pure): one rule, one entity's current window and baseline -> a signal.

A signal says whether the opening condition holds (``active``) and whether the looser
resolve condition holds (``cleared``). Too few posts or a baseline still warming up give
neither an opening nor a reason to stay open: ``active=False, cleared=True``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    #: the statistics behind it, for the payload
    stats: dict[str, Any] = field(default_factory=dict)


def measure(rule: Rule, window: Stats, baseline: Baseline | None) -> Signal:
    """Evaluate ``rule`` on the window's stats and the entity's baseline."""
    info = _describe(window, baseline, rule)
    if window.count < rule.min_count:
        return Signal(False, True, None, info | {"reason": "min_count"})
    if rule.kind == "negative_share":
        share = window.negative_share or 0.0
        return Signal(share >= rule.threshold, share < rule.resolve, share, info)
    if baseline is None or _warming(rule, baseline):
        return Signal(False, True, None, info | {"reason": "warmup"})
    if rule.kind == "volume_spike":
        ratio = window.count / max(baseline.rate, rule.min_rate)
        info["ratio"] = round(ratio, 6)
        return Signal(ratio >= rule.threshold, ratio < rule.resolve, ratio, info)
    z = z_score(window, baseline, rule.min_stderr)
    info["z"] = round(z, 6)
    if rule.kind == "sentiment_drop":
        return Signal(z <= -rule.threshold, z > -rule.resolve, z, info)
    return Signal(z >= rule.threshold, z < rule.resolve, z, info)


def _warming(rule: Rule, baseline: Baseline) -> bool:
    seen = baseline.rate_windows if rule.kind == "volume_spike" else baseline.windows
    return seen < rule.warmup_windows


def _describe(window: Stats, baseline: Baseline | None, rule: Rule) -> dict[str, Any]:
    minutes = rule.window_s / 60
    info: dict[str, Any] = {
        "count": window.count,
        "mean": _r(window.mean_score),
        "std": _r(window.std_score),
        "negative_share": _r(window.negative_share),
        "rate_per_min": _r(window.count / minutes),
    }
    if baseline is not None and rule.uses_baseline:
        info |= {
            "baseline_mean": _r(baseline.mean),
            "baseline_std": _r(baseline.std),
            "baseline_rate": _r(baseline.rate),
            "baseline_windows": baseline.windows,
        }
    return info


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
