"""The exchange calendar: sessions, holidays, weekends, slots and hostile timestamps."""

from __future__ import annotations

import datetime as dt
import math
import time

import pytest

from sentimon.errors import ConfigError
from sentimon.market_calendar import get_calendar


def ts(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


@pytest.fixture(scope="module")
def nyse():
    return get_calendar("XNYS")


def test_regular_session_bounds(nyse):
    assert not nyse.is_open(ts("2024-07-05T09:29:59-04:00"))
    assert nyse.is_open(ts("2024-07-05T09:30:00-04:00"))
    assert nyse.is_open(ts("2024-07-05T15:59:59-04:00"))
    assert not nyse.is_open(ts("2024-07-05T16:00:00-04:00"))


def test_early_close_after_thanksgiving(nyse):
    assert nyse.is_open(ts("2024-11-29T12:59:00-05:00"))
    assert not nyse.is_open(ts("2024-11-29T13:30:00-05:00"))


def test_holiday_and_weekend(nyse):
    july4 = ts("2024-07-04T11:00:00-04:00")
    assert nyse.is_holiday(july4) and not nyse.is_weekend(july4)
    assert not nyse.is_trading_day(july4) and not nyse.is_open(july4)
    saturday = ts("2024-07-06T11:00:00-04:00")
    assert nyse.is_weekend(saturday) and not nyse.is_holiday(saturday)
    assert not nyse.is_trading_day(saturday)


def test_trading_day_uses_the_exchange_local_date(nyse):
    # 02:00 UTC on Saturday is still Friday evening in New York.
    friday_night = ts("2024-07-06T02:00:00+00:00")
    assert nyse.is_trading_day(friday_night) and not nyse.is_open(friday_night)


def test_slots_are_local_wall_clock_across_dst(nyse):
    winter = nyse.slot(ts("2024-01-08T09:30:00-05:00"), 1800)
    summer = nyse.slot(ts("2024-07-08T09:30:00-04:00"), 1800)
    assert winter == summer == (True, 19)
    assert nyse.slot(ts("2024-07-06T09:45:00-04:00"), 1800) == (False, 19)
    with pytest.raises(ValueError):
        nyse.slot(0.0, 0)


def test_other_exchanges_and_unknown_codes():
    london = get_calendar("xlon")
    assert london.exchange == "XLON"
    assert london.is_open(ts("2024-07-05T08:30:00+01:00"))
    assert get_calendar("XLON") is london
    with pytest.raises(ConfigError, match="XNYS"):
        get_calendar("NOPE")


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, 1e20, -1e20, 0.0, -86400.0 * 365 * 3000]
)
def test_hostile_timestamps_neither_raise_nor_stall(nyse, value):
    started = time.perf_counter()
    nyse.is_open(value)
    nyse.is_holiday(value)
    trading, slot = nyse.slot(value, 1800)
    assert 0 <= slot < 48 and isinstance(trading, bool)
    assert time.perf_counter() - started < 0.5


def test_outside_the_calendar_span_weekday_rules_apply(nyse):
    far = ts("2090-07-04T10:00:00-04:00")  # a Tuesday; holidays unknown that far out
    assert not nyse.in_span(far)
    assert nyse.is_trading_day(far) and nyse.is_open(far)
    assert not nyse.is_open(ts("2090-07-04T08:00:00-04:00"))
    assert nyse.is_weekend(ts("1950-07-01T10:00:00-04:00"))  # a Saturday
