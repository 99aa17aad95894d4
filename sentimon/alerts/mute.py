"""Mute timings (pure): named time intervals during which a route sends nothing.

A ``TimeInterval`` is a union of entries (several ``[[time_interval]]`` tables with one
name add up); an entry is one of:

- ``MarketEntry``: the exchange is ``closed`` (outside a regular session), on a
  ``weekend`` or a ``holiday`` (a weekday without a session), per
  ``sentimon.market_calendar``;
- ``WindowEntry``: an explicit span ``[start, end)``, e.g. an earnings call;
- ``WeeklyEntry``: weekdays and/or times of day in a time zone (``location``), like
  Alertmanager's ``weekdays`` and ``times``.

The dispatcher asks at notification time (wall clock, as Alertmanager does). Calendars
are looked up through a function (``Calendars``) so tests inject a fake one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from sentimon.market_calendar import get_calendar

MARKET_STATES = ("closed", "weekend", "holiday")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Calendar(Protocol):
    def is_open(self, ts: float) -> bool: ...
    def is_trading_day(self, ts: float) -> bool: ...
    def is_holiday(self, ts: float) -> bool: ...
    def is_weekend(self, ts: float) -> bool: ...


Calendars = Callable[[str], Calendar]


@dataclass(frozen=True)
class MarketEntry:
    market: str  # one of MARKET_STATES
    exchange: str = "XNYS"

    def contains(self, ts: float, calendars: Calendars) -> bool:
        calendar = calendars(self.exchange)
        if self.market == "closed":
            return not calendar.is_open(ts)
        if self.market == "weekend":
            return calendar.is_weekend(ts)
        return calendar.is_holiday(ts)


@dataclass(frozen=True)
class WindowEntry:
    start_s: float
    end_s: float

    def contains(self, ts: float, calendars: Calendars) -> bool:
        return self.start_s <= ts < self.end_s


@dataclass(frozen=True)
class WeeklyEntry:
    #: 0 = Monday; empty: every day
    weekdays: frozenset[int] = frozenset()
    #: [start, end) minutes of the day; empty: all day
    times: tuple[tuple[int, int], ...] = ()
    location: str = "UTC"

    def contains(self, ts: float, calendars: Calendars) -> bool:
        local = dt.datetime.fromtimestamp(ts, ZoneInfo(self.location))
        if self.weekdays and local.weekday() not in self.weekdays:
            return False
        minute = local.hour * 60 + local.minute
        return not self.times or any(lo <= minute < hi for lo, hi in self.times)


Entry = MarketEntry | WindowEntry | WeeklyEntry


@dataclass(frozen=True)
class TimeInterval:
    name: str
    entries: tuple[Entry, ...]

    def contains(self, ts: float, calendars: Calendars = get_calendar) -> bool:
        return any(entry.contains(ts, calendars) for entry in self.entries)


def muted_by(
    names: Iterable[str],
    intervals: Mapping[str, TimeInterval],
    ts: float,
    calendars: Calendars = get_calendar,
) -> str | None:
    """The first of the named intervals ``ts`` (epoch seconds) falls in, if any."""
    return next((n for n in names if intervals[n].contains(ts, calendars)), None)
