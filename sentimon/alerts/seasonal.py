"""Seasonal (market-aware) baselines (pure): the same time of day on past days.

News flow follows the market day: it jumps at the open, on earnings and after macro
releases, and goes quiet at night and on weekends. An EWMA over the last few windows
compares the 09:30 open with the night before; a seasonal baseline compares it with
earlier opens.

Per (rule, entity) pair a ``SlotProfile`` keeps, for each exchange-local time-of-day slot
(``slot_s``, 30 minutes by default) and day type (trading day ``t`` or not ``n``: weekends
and exchange holidays), running statistics of the rule's closed tumbling windows that
started in that slot:

- ``volume_spike``: ``[w, rate]``, the weighted mean of posts (stories) per window, empty
  windows included;
- sentiment rules: ``[w, mean, var]`` over windows with at least ``min_posts`` posts, the
  per-post variance around the mean (drift between days included), like the EWMA's.

Each window folded in decays the slot's earlier weight by ``1 - 1/(days * k)`` (``k``:
windows per slot), so a slot remembers about ``seasonal_days`` days of its type, and
``w / k`` is the number of days it has seen. The profile lives in the pair's record in
the alert state hash, written in the batch's atomic write under the record's guard: at
most ``2 * 86400 / slot_s`` slot entries of two or three numbers (96 entries, about 2.5
KB of JSON, at 30-minute slots), whatever the traffic.

**Folding.** At a tick in window ``c``, windows up to ``c - 1 - SETTLE_WINDOWS`` not yet
folded are folded from the exact per-window sums the EWMA reads (``alerts:w:*``), so a
window is folded once event time is a full window past its end and late posts of up to
one window are counted. Windows of a quiet stretch longer than the EWMA's read are known
to be empty (they had no ticks) and fold as zeros, up to ``MAX_GAP_DAYS``; the one or
two windows right after the last fold, then unread, are skipped. Everything depends on
event time and the sums only, and values are rounded as they are folded, so the same
input read in the same order gives the same profile, however it is cut into batches.

**Blending.** The statistics of the slots the tick's sliding window covers (weighted by
overlap, so the window ending at 10:00 is compared with the 09:30 slot, not the 10:00
one) are blended with the EWMA baseline, weight
``min(1, days / ramp)`` with ``ramp = max(1, seasonal_days // 4)`` days (the EWMA alone
when the slot has no history, the slot alone when the EWMA has none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sentimon.alerts.baseline import Baseline
from sentimon.alerts.rules import Rule
from sentimon.market_calendar import MarketCalendar
from sentimon.windows import Stats

#: Windows a closed window waits, in event time, before it is folded (late posts).
SETTLE_WINDOWS = 1
#: Longest quiet stretch folded as empty windows.
MAX_GAP_DAYS = 7
#: Significant digits kept per folded value (deterministic and compact).
DIGITS = 7


@dataclass(frozen=True)
class SlotProfile:
    """One pair's per-slot statistics; ``folded``: the last window folded in."""

    folded: int | None = None
    slots: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"f": self.folded, "s": {k: list(v) for k, v in sorted(self.slots.items())}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SlotProfile:
        if not data:
            return cls()
        slots = {str(k): tuple(float(x) for x in v) for k, v in dict(data.get("s", {})).items()}
        folded = data.get("f")
        return cls(None if folded is None else int(folded), slots)


def slot_key(calendar: MarketCalendar, ts: float, slot_s: int) -> str:
    """``t19``: trading-day slot 19 (09:30-10:00 at 30-minute slots); ``n``: other days."""
    trading, slot = calendar.slot(ts, slot_s)
    return f"{'t' if trading else 'n'}{slot}"


def windows_per_slot(rule: Rule) -> int:
    return max(1, rule.slot_s // rule.window_s)


def fold(
    profile: SlotProfile,
    rule: Rule,
    calendar: MarketCalendar,
    current: int,
    sums: Mapping[int, Stats],
) -> SlotProfile:
    """``profile`` with the closed windows before ``current`` (a window index) that are
    settled and not yet folded; ``sums``: the per-window sums read (the EWMA's range)."""
    last = current - 1 - SETTLE_WINDOWS
    readable = current - rule.history
    start = readable if profile.folded is None else profile.folded + 1
    if last < start:
        return profile
    unknown = start + SETTLE_WINDOWS  # windows up to here may have had posts
    start = max(start, last - MAX_GAP_DAYS * 86_400 // rule.window_s + 1)
    decay = 1.0 - 1.0 / (rule.seasonal_days * windows_per_slot(rule))
    slots = dict(profile.slots)
    for index in range(start, last + 1):
        if index < readable:
            if index <= unknown:
                continue
            stats = Stats()
        else:
            stats = sums.get(index, Stats())
        key = slot_key(calendar, index * rule.window_s, rule.slot_s)
        entry = _update(rule, slots.get(key), stats, decay)
        if entry is not None:
            slots[key] = entry
    return SlotProfile(last, slots)


def _update(
    rule: Rule, entry: tuple[float, ...] | None, stats: Stats, decay: float
) -> tuple[float, ...] | None:
    if rule.kind == "volume_spike":
        w, rate = entry or (0.0, 0.0)
        kept = w * decay
        total = kept + 1.0
        return _round(total, (kept * rate + stats.count) / total)
    if stats.count < max(rule.min_posts, 1):
        return None  # too few posts to move the mean (as in the EWMA)
    w, mean, var = entry or (0.0, 0.0, 0.0)
    m = stats.score_sum / stats.count
    v = max(stats.score_sumsq / stats.count - m * m, 0.0)
    kept = w * decay
    total = kept + 1.0
    new_mean = (kept * mean + m) / total
    new_var = (kept * (var + (mean - new_mean) ** 2) + v + (m - new_mean) ** 2) / total
    return _round(total, new_mean, new_var)


def _round(*values: float) -> tuple[float, ...]:
    return tuple(float(f"{x:.{DIGITS}g}") for x in values)


def blend(
    ewma: Baseline, profile: SlotProfile, rule: Rule, calendar: MarketCalendar, end: int
) -> Baseline:
    """The baseline a sliding window ending at ``end`` (epoch s, exclusive) is compared
    with: the slots it covers, weighted by overlap, blended with the EWMA (see the module
    docstring)."""
    parts = [(f, profile.slots.get(k)) for f, k in _covered(rule, calendar, end)]
    found = [(f, e) for f, e in parts if e is not None]
    if not found:
        return ewma
    share = sum(f for f, _ in found)
    k = windows_per_slot(rule)
    days = sum(f * e[0] for f, e in found) / share / k
    volume = rule.kind == "volume_spike"
    ewma_seen = ewma.rate_windows if volume else ewma.windows
    weight = 1.0 if not ewma_seen else min(1.0, days / max(1, rule.seasonal_days // 4))
    out = replace(ewma, seasonal_days=round(days, 3), seasonal_weight=round(weight, 3))
    seen = round(days * k)
    if volume:
        s_rate = sum(f * e[1] for f, e in found) / share
        rate = weight * s_rate + (1.0 - weight) * ewma.rate
        return replace(out, rate=rate, rate_windows=ewma.rate_windows + seen)
    s_mean = sum(f * e[1] for f, e in found) / share
    s_var = sum(f * (e[2] + (e[1] - s_mean) ** 2) for f, e in found) / share
    mean = weight * s_mean + (1.0 - weight) * ewma.mean
    var = weight * (s_var + (s_mean - mean) ** 2) + (1.0 - weight) * (
        ewma.var + (ewma.mean - mean) ** 2
    )
    return replace(out, mean=mean, var=var, windows=ewma.windows + seen)


def _covered(rule: Rule, calendar: MarketCalendar, end: int) -> list[tuple[float, str]]:
    """(share of the window, slot key) of the one or two slots the window ``[end - W,
    end)`` covers (a window is never longer than a slot)."""
    last = end - 60  # the window's last minute
    into = calendar.time_of_day(last) % rule.slot_s
    boundary = last - into
    key = slot_key(calendar, last, rule.slot_s)
    if boundary <= end - rule.window_s:
        return [(1.0, key)]
    before = slot_key(calendar, boundary - 60, rule.slot_s)
    after = (end - boundary) / rule.window_s
    return [(1.0 - after, before), (after, key)]
