"""A rule's market-aware options from the rules file: ``baseline``, ``slot``,
``seasonal_days``, ``exchange`` and ``hours`` (validated with file, line and field).

``baseline``, ``slot`` and ``seasonal_days`` apply to the kinds with a baseline
(``sentiment_drop``, ``sentiment_rise``, ``volume_spike``); ``hours`` and ``exchange`` to
every kind. The exchange defaults to ``SENTIMON_EXCHANGE`` (XNYS) and is checked against
the calendars ``exchange-calendars`` knows only when a rule uses it (``baseline =
"seasonal"`` or ``hours`` other than ``"any"``), so other rule files load no calendar.
"""

from __future__ import annotations

from typing import Any, Protocol

from sentimon.alerts.durations import parse_duration
from sentimon.alerts.rules import BASELINES, HOURS
from sentimon.errors import ConfigError
from sentimon.market_calendar import get_calendar

#: Keys for every kind, and those for the kinds with a baseline.
KEYS = frozenset({"hours", "exchange"})
BASELINE_KEYS = frozenset({"baseline", "slot", "seasonal_days"})
#: Bounds of ``slot`` (seconds) and ``seasonal_days``.
MIN_SLOT_S, MAX_SLOT_S = 300, 4 * 3600
MAX_SEASONAL_DAYS = 250


class OptionReader(Protocol):
    """What ``sentimon.alerts.rulefile``'s rule reader offers."""

    def get(self, key: str, fallback: Any = None) -> Any: ...
    def text(self, key: str, fallback: str | None = None) -> str: ...
    def integer(self, key: str, fallback: int, *, low: int) -> int: ...
    def fail(self, key: str | None, problem: str) -> ConfigError: ...


def market_options(r: OptionReader, window_s: int, exchange: str) -> dict[str, Any]:
    """``Rule`` keyword arguments of the options (``exchange``: the default)."""
    baseline = _choice(r, "baseline", "ewma", BASELINES)
    hours = _choice(r, "hours", "any", HOURS)
    code = r.text("exchange", exchange).upper()
    slot_s = _slot(r, window_s, seasonal=baseline == "seasonal")
    days = r.integer("seasonal_days", 20, low=2)
    if days > MAX_SEASONAL_DAYS:
        raise r.fail("seasonal_days", f"must be at most {MAX_SEASONAL_DAYS}, got {days}")
    if baseline == "seasonal" or hours != "any":
        try:
            get_calendar(code)
        except ConfigError as exc:
            raise r.fail("exchange", f"{exc} (the default is SENTIMON_EXCHANGE)") from None
    return {
        "baseline": baseline,
        "hours": hours,
        "exchange": code,
        "slot_s": slot_s,
        "seasonal_days": days,
    }


def _choice(r: OptionReader, key: str, fallback: str, allowed: tuple[str, ...]) -> str:
    value = r.get(key, fallback)
    if value not in allowed:
        raise r.fail(key, f"must be {' or '.join(map(repr, allowed))}, got {value!r}")
    return str(value)


def _slot(r: OptionReader, window_s: int, *, seasonal: bool) -> int:
    value = r.get("slot", "30m")
    try:
        slot_s = parse_duration(value)
    except ConfigError as exc:
        raise r.fail("slot", str(exc)) from None
    if not MIN_SLOT_S <= slot_s <= MAX_SLOT_S or 86_400 % slot_s:
        raise r.fail(
            "slot", f"must divide a day into whole slots of 5m to 4h (e.g. 30m), got {value!r}"
        )
    if seasonal and slot_s % window_s:
        raise r.fail(
            "slot", f"must be a whole number of the rule's windows ({window_s}s), got {value!r}"
        )
    return slot_s
