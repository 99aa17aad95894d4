"""Exchange trading calendars: sessions, holidays, weekends and time-of-day slots.

A thin, fast wrapper over the ``exchange-calendars`` package. Alert rules ask it, per
window evaluation, whether a timestamp falls inside a regular session (``hours``
limits) and which time-of-day slot and day type it belongs to (seasonal baselines);
alert routing asks it the same for mute timings. Everything is a function of the
timestamp (event time) alone, so replays and backtests get the same answers.

Speed: the calendar's sessions are read once into a dict keyed by the exchange-local
date, so a question costs one time-zone conversion and one dict lookup.

Bounds: an ``exchange-calendars`` calendar covers a limited span (by default about 20
years back to one year ahead). Outside it, and for hostile input (NaN, infinities,
timestamps centuries away), nothing raises or stalls: timestamps are clamped to what
``datetime`` can represent, and a date outside the calendar's span falls back to the
exchange's week mask (Monday-Friday for XNYS) with its usual local open and close times
and no holidays.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from sentimon.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_EXCHANGE = "XNYS"

# datetime can represent years 1..9999; keep two days of margin for the tz offset.
_MIN_TS = -62135596800.0 + 2 * 86400
_MAX_TS = 253402300799.0 - 2 * 86400
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class Session:
    """One trading day's regular hours as epoch seconds (a break is ``None`` if none)."""

    open: float
    close: float
    break_start: float | None = None
    break_end: float | None = None

    def contains(self, ts: float) -> bool:
        if not self.open <= ts < self.close:
            return False
        if self.break_start is not None and self.break_end is not None:
            return not self.break_start <= ts < self.break_end
        return True


def _clamp(ts: float) -> float:
    """A timestamp ``datetime`` can convert: NaN maps to 0, the rest is clamped."""
    if math.isnan(ts):
        return 0.0
    return min(max(ts, _MIN_TS), _MAX_TS)


def _epoch(value: object) -> float | None:
    """A pandas timestamp (or NaT) as epoch seconds."""
    import pandas as pd  # noqa: PLC0415 (already loaded with exchange-calendars)

    if value is None or pd.isna(value):  # no break that day: NaT
        return None
    return float(value.timestamp())  # type: ignore[attr-defined]


class MarketCalendar:
    """One exchange's calendar; build it with :func:`get_calendar`."""

    def __init__(self, exchange: str, native: object) -> None:
        self.exchange = exchange
        self._tz = ZoneInfo(str(native.tz))  # type: ignore[attr-defined]
        self._weekmask = str(native.weekmask)  # type: ignore[attr-defined]
        schedule = native.schedule  # type: ignore[attr-defined]
        self._first = schedule.index[0].date().toordinal()
        self._last = schedule.index[-1].date().toordinal()
        self._sessions: dict[int, Session] = {}
        opens: Counter[tuple[int, int]] = Counter()
        closes: Counter[tuple[int, int]] = Counter()
        for day, row in zip(schedule.index, schedule.itertuples(index=False), strict=True):
            session = Session(
                _epoch(row.open) or 0.0,
                _epoch(row.close) or 0.0,
                _epoch(row.break_start),
                _epoch(row.break_end),
            )
            self._sessions[day.date().toordinal()] = session
            opens[self._wall(session.open)] += 1
            closes[self._wall(session.close)] += 1
        # The usual local hours, used for dates outside the calendar's span.
        self._usual_open = opens.most_common(1)[0][0]
        self._usual_close = closes.most_common(1)[0][0]
        self._fallback = lru_cache(maxsize=1024)(self._fallback_session)

    def _wall(self, ts: float) -> tuple[int, int]:
        local = self._local(ts)
        return local.hour, local.minute

    def _local(self, ts: float) -> dt.datetime:
        # _EPOCH + timedelta avoids the platform limits of fromtimestamp.
        return (_EPOCH + dt.timedelta(seconds=_clamp(ts))).astimezone(self._tz)

    def _fallback_session(self, ordinal: int) -> Session | None:
        day = dt.date.fromordinal(ordinal)
        if self._weekmask[day.weekday()] != "1":
            return None
        opening = dt.datetime.combine(day, dt.time(*self._usual_open), self._tz)
        closing = dt.datetime.combine(day, dt.time(*self._usual_close), self._tz)
        return Session(opening.timestamp(), closing.timestamp())

    def in_span(self, ts: float) -> bool:
        """Whether ``ts``'s local date lies inside the calendar's known span."""
        return self._first <= self._local(ts).date().toordinal() <= self._last

    def session(self, ts: float) -> Session | None:
        """The regular session on ``ts``'s exchange-local date, or ``None``."""
        ordinal = self._local(ts).date().toordinal()
        if self._first <= ordinal <= self._last:
            return self._sessions.get(ordinal)
        return self._fallback(ordinal)

    def is_open(self, ts: float) -> bool:
        """Whether ``ts`` (epoch seconds) falls inside a regular trading session."""
        session = self.session(ts)
        return session is not None and session.contains(_clamp(ts))

    def is_trading_day(self, ts: float) -> bool:
        """Whether the exchange-local date of ``ts`` is a session."""
        return self.session(ts) is not None

    def is_weekend(self, ts: float) -> bool:
        """Whether the exchange-local date of ``ts`` is off the exchange's week mask."""
        return self._weekmask[self._local(ts).weekday()] != "1"

    def is_holiday(self, ts: float) -> bool:
        """Whether the local date of ``ts`` is a weekday (per the mask) without a session."""
        return not self.is_weekend(ts) and not self.is_trading_day(ts)

    def slot(self, ts: float, slot_s: int) -> tuple[bool, int]:
        """``(trading day, slot)``: the slot indexes exchange-local wall-clock time.

        Wall-clock time keeps the open in the same slot across DST changes (a 23- or
        25-hour day has one slot fewer or more of the night).
        """
        if slot_s <= 0:
            raise ValueError(f"slot_s must be positive, got {slot_s}")
        local = self._local(ts)
        ordinal = local.date().toordinal()
        if self._first <= ordinal <= self._last:
            trading = ordinal in self._sessions
        else:
            trading = self._fallback(ordinal) is not None
        return trading, _seconds(local) // slot_s

    def time_of_day(self, ts: float) -> int:
        """Seconds since exchange-local midnight, by the wall clock."""
        return _seconds(self._local(ts))


def _seconds(local: dt.datetime) -> int:
    return local.hour * 3600 + local.minute * 60 + local.second


_lock = threading.Lock()
_calendars: dict[str, MarketCalendar] = {}


def get_calendar(exchange: str = DEFAULT_EXCHANGE) -> MarketCalendar:
    """The calendar of an ISO 10383 exchange code (``XNYS``, ``XNAS``, ``XLON``...).

    Loaded once per exchange (a fraction of a second) and shared; thread-safe.
    """
    code = exchange.strip().upper()
    with _lock:
        found = _calendars.get(code)
        if found is None:
            found = MarketCalendar(code, _load(code))
            _calendars[code] = found
        return found


def _load(code: str) -> object:
    # exchange-calendars loads pandas (about half a second): imported on the first
    # calendar asked for, so a process whose rules never need one does not pay for it
    import exchange_calendars as xcals  # noqa: PLC0415

    try:
        return xcals.get_calendar(code)
    except xcals.errors.InvalidCalendarName:
        raise ConfigError(
            f"unknown exchange {code!r}: use an ISO 10383 code such as XNYS (NYSE), "
            "XNAS (Nasdaq), XLON (London), XTKS (Tokyo) or XFRA (Frankfurt)"
        ) from None
