"""Grouping timings (group_wait, group_interval, repeat_interval) and mute timings, through
the ``Router`` with an in-memory group store, a fake wall clock and a fake calendar."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sentimon.alerts.alert_labels import builtin_labels
from sentimon.alerts.group_store import Flush, Update
from sentimon.alerts.grouping import Group
from sentimon.alerts.mute import MarketEntry, TimeInterval, WeeklyEntry, WindowEntry
from sentimon.alerts.outbox import Entry
from sentimon.alerts.router import Router
from sentimon.alerts.rulefile import parse_rules
from sentimon.testing import ManualClock

RULES = """
[[rule]]
name = "drop"
scope = "*"
kind = "sentiment_drop"
window = "15m"
z = 3.0

[route]
receiver = "desk"
group_by = ["alertname"]
group_wait = "30s"
group_interval = "5m"
repeat_interval = "1h"

[[route.routes]]
matchers = ["ticker = QUIET"]
receiver = "desk"
mute_time_intervals = ["earnings", "closed"]

[[receiver]]
name = "desk"
webhook_urls = ["https://desk.example/hook"]

[[time_interval]]
name = "earnings"
start = "2026-12-10T21:00:00Z"
end = "2026-12-10T22:00:00Z"

[[time_interval]]
name = "closed"
market = "weekend"

[[time_interval]]
name = "closed"
market = "holiday"
"""
THU_2100 = dt.datetime(2026, 12, 10, 21, 0, tzinfo=dt.UTC).timestamp()


class MemoryStore:
    """``GroupStore`` in memory: what the Router needs, with the same all-or-nothing use."""

    def __init__(self) -> None:
        self.groups: dict[str, Group] = {}
        self.acked: list[str] = []
        self.queued: list[tuple[dict[str, Any], str]] = []

    def accept(self, entry_id: str, updates: list[tuple[str, Update]]) -> None:
        for gid, change in updates:
            self.groups[gid] = change(self.groups.get(gid))
        self.acked.append(entry_id)

    def due(self, until_ms: float, limit: int = 100) -> list[str]:
        return sorted((g for g in self.groups.values() if g.next_ms <= until_ms),
                      key=lambda g: g.next_ms)[:limit]  # fmt: skip

    def flush(self, gid: Any, decide: Flush) -> dict[str, Any] | None:
        group = gid if isinstance(gid, Group) else self.groups[gid]
        after, note, sinks = decide(Group.decode(group.encode()))
        if after is None:
            self.groups.pop(group.gid, None)
        else:
            self.groups[group.gid] = after
        if note is not None and sinks:
            self.queued.append((note, sinks))
        return note


class FakeCalendar:
    def __init__(self, holidays: set[dt.date] = frozenset()) -> None:  # type: ignore[assignment]
        self.holidays = holidays

    def _day(self, ts: float) -> dt.date:
        return dt.datetime.fromtimestamp(ts, dt.UTC).date()

    def is_weekend(self, ts: float) -> bool:
        return self._day(ts).weekday() >= 5

    def is_holiday(self, ts: float) -> bool:
        return not self.is_weekend(ts) and self._day(ts) in self.holidays

    def is_trading_day(self, ts: float) -> bool:
        return not self.is_weekend(ts) and not self.is_holiday(ts)

    def is_open(self, ts: float) -> bool:
        hour = dt.datetime.fromtimestamp(ts, dt.UTC).hour
        return self.is_trading_day(ts) and 14 <= hour < 21


class Harness:
    def __init__(self, start: float, holidays: set[dt.date] = frozenset()) -> None:  # type: ignore[assignment]
        self.clock = ManualClock(start)
        self.store = MemoryStore()
        self.calendar = FakeCalendar(holidays)
        routing = parse_rules(RULES, "r.toml").routing
        assert routing is not None
        self.router = Router(
            routing,
            self.store,  # type: ignore[arg-type]
            lambda route, receiver: [f"{receiver}.webhook-x"],
            wall=self.clock,
            calendars=lambda exchange: self.calendar,
        )
        self.n = 0

    def notice(
        self, ticker: str, status: str = "firing", seq: int = 0, quiet: bool = False
    ) -> None:
        labels = builtin_labels("drop", "sentiment_drop", "warning", f"ticker:{ticker}",
                                namespace="live", model="m")  # fmt: skip
        payload = {"id": f"a-{ticker}", "seq": seq, "status": status, "labels": labels,
                   "entity": f"ticker:{ticker}", "namespace": "live", "opened_ms": 1,
                   "summary": f"{status} {ticker}"}  # fmt: skip
        self.n += 1
        self.router.accept(Entry(f"{self.n}-0", f"a-{ticker}.{seq}", json.dumps(payload),
                                 quiet=quiet))  # fmt: skip

    def sent_after(self, seconds: float) -> list[dict[str, Any]]:
        """Advance the clock second by second; the notifications queued meanwhile."""
        before = len(self.store.queued)
        for _ in range(int(seconds)):
            self.clock.advance(1)
            self.router.flush_due()
        return [note for note, _ in self.store.queued[before:]]


def statuses(note: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["entity"], a["status"]) for a in note["alerts"]]


def test_group_wait_then_one_notification_carrying_every_alert() -> None:
    h = Harness(THU_2100 - 7200)
    h.notice("AAPL")
    assert h.sent_after(10) == []
    h.notice("MSFT")  # joins the waiting group
    [note] = h.sent_after(25)
    assert statuses(note) == [("ticker:AAPL", "firing"), ("ticker:MSFT", "firing")]
    assert note["group_labels"] == {"alertname": "drop"} and note["receiver"] == "desk"
    assert note["common_labels"]["alertname"] == "drop" and "ticker" not in note["common_labels"]
    assert note["event_id"].endswith(".0") and note["status"] == "firing"
    assert h.store.queued[0][1] == "desk.webhook-x"
    assert h.sent_after(120) == []  # unchanged: nothing until the repeat


def test_group_interval_batches_changes_and_repeat_resends_unchanged() -> None:
    h = Harness(THU_2100 - 7200)
    h.notice("AAPL")
    assert len(h.sent_after(30)) == 1
    h.notice("MSFT")  # a change 60 s after the first notification
    h.notice("AAPL", seq=1)  # a re-notice of a known alert is no change
    assert h.sent_after(200) == []
    h.notice("AAPL", status="resolved", seq=2)
    [second] = h.sent_after(100)  # group_interval (5 minutes) after the first notification
    assert statuses(second) == [("ticker:MSFT", "firing"), ("ticker:AAPL", "resolved")]
    assert second["event_id"].endswith(".1")
    assert h.sent_after(3500) == []
    [repeat] = h.sent_after(120)  # repeat_interval after the second notification
    assert statuses(repeat) == [("ticker:MSFT", "firing")]
    h.notice("MSFT", status="resolved", seq=1)
    [last] = h.sent_after(300)
    assert statuses(last) == [("ticker:MSFT", "resolved")] and last["status"] == "resolved"
    assert h.store.groups == {}  # nothing left: the group is gone


def test_an_alert_resolved_unannounced_or_quietly_leaves_silently() -> None:
    h = Harness(THU_2100 - 7200)
    h.notice("AAPL")
    h.notice("AAPL", status="resolved", seq=1)  # before group_wait ended
    assert h.sent_after(60) == [] and h.store.groups == {}
    h.notice("MSFT")
    assert len(h.sent_after(30)) == 1
    h.notice("MSFT", status="resolved", seq=1, quiet=True)  # send_resolved = false
    assert h.sent_after(600) == [] and h.store.groups == {}


def test_stale_notices_change_nothing() -> None:
    h = Harness(THU_2100 - 7200)
    h.notice("AAPL", status="resolved", seq=3)
    h.notice("AAPL", seq=1)  # older than what the group holds
    assert h.sent_after(60) == []


def test_mute_during_an_explicit_window_then_sent_after_it() -> None:
    h = Harness(THU_2100 + 60)  # inside the earnings window (Thursday)
    h.notice("QUIET")
    assert h.sent_after(1800) == []
    assert h.router.muted > 0 and len(h.store.groups) == 1
    [note] = h.sent_after(1800 + 300)  # the window ended at 22:00
    assert statuses(note) == [("ticker:QUIET", "firing")]


def test_mute_on_a_weekend_and_a_holiday_via_the_calendar() -> None:
    saturday = dt.datetime(2026, 12, 12, 12, tzinfo=dt.UTC).timestamp()
    h = Harness(saturday)
    h.notice("QUIET")
    h.notice("AAPL")  # another route: not muted
    sent = h.sent_after(60)
    assert [statuses(n) for n in sent] == [[("ticker:AAPL", "firing")]]
    christmas = dt.date(2026, 12, 25)
    h = Harness(dt.datetime(2026, 12, 25, 15, tzinfo=dt.UTC).timestamp(), {christmas})
    h.notice("QUIET")
    assert h.sent_after(60) == []
    h = Harness(dt.datetime(2026, 12, 24, 15, tzinfo=dt.UTC).timestamp(), {christmas})
    h.notice("QUIET")
    assert len(h.sent_after(60)) == 1


def test_interval_entries() -> None:
    cal = FakeCalendar()
    friday_2200 = dt.datetime(2026, 12, 11, 22, tzinfo=dt.UTC).timestamp()
    closed = TimeInterval("c", (MarketEntry("closed"),))
    assert closed.contains(friday_2200, lambda _: cal)
    assert not closed.contains(friday_2200 - 4 * 3600, lambda _: cal)
    window = WindowEntry(THU_2100, THU_2100 + 3600)
    assert window.contains(THU_2100, lambda _: cal) and not window.contains(
        THU_2100 + 3600, lambda _: cal
    )
    evenings = WeeklyEntry(frozenset({0, 1, 2, 3, 4}), ((17 * 60, 24 * 60),), "America/New_York")
    assert evenings.contains(friday_2200, lambda _: cal)  # 17:00 in New York
    assert not evenings.contains(friday_2200 - 3600, lambda _: cal)
