"""Dispatcher logic with an in-memory outbox, fake sinks and a fake clock."""

from __future__ import annotations

import json
import random
from typing import Any

from prometheus_client import CollectorRegistry

from sentimon.alerts.backoff import Backoff
from sentimon.alerts.dispatch import Dispatcher
from sentimon.alerts.outbox import Entry
from sentimon.alerts.sinks import DeliveryError
from sentimon.metrics import Metrics
from sentimon.testing import ManualClock


class FakeOutbox:
    def __init__(self) -> None:
        self.new: list[Entry] = []
        self.pending: dict[str, Entry] = {}
        self.acked: list[str] = []
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.dead: list[dict[str, Any]] = []
        self.stale: list[Entry] = []  # what a crashed peer left pending

    def add(self, n: int) -> None:
        for _ in range(n):
            entry_id = f"{len(self.pending) + len(self.acked) + len(self.new)}-0"
            self.new.append(
                Entry(entry_id, f"ev{entry_id}", json.dumps({"id": entry_id, "status": "firing"}))
            )

    def ensure_group(self) -> None: ...
    def read_own_pending(self) -> list[Entry]:
        return list(self.pending.values())

    def claim_stale(self, min_idle_ms: int) -> list[Entry]:
        out, self.stale = self.stale, []
        self.pending.update({e.entry_id: e for e in out})
        return out

    def touch(self, ids: Any) -> None: ...
    def read_new(self, count: int, block_ms: int | None) -> list[Entry]:
        out, self.new = self.new[:count], self.new[count:]
        self.pending.update({e.entry_id: e for e in out})
        return out

    def progress(self, entry_id: str, sinks: list[str]) -> dict[str, dict[str, Any]]:
        return {s: self.records[(entry_id, s)] for s in sinks if (entry_id, s) in self.records}

    def record(self, entry_id: str, sink: str, info: dict[str, Any]) -> None:
        self.records[(entry_id, sink)] = info

    def dead_letter(self, entry_id: str, sink: str, letter: dict[str, Any]) -> None:
        self.dead.append(letter)
        self.records[(entry_id, sink)] = {"state": "dead"}

    def ack(self, entry_id: str, sinks: Any) -> None:
        self.pending.pop(entry_id)
        self.acked.append(entry_id)


class FakeSink:
    def __init__(self, name: str, fail: int = 0, permanent: bool = False) -> None:
        self.name, self.fail, self.permanent = name, fail, permanent
        self.got: list[str] = []
        self.calls = 0

    def describe(self) -> str:
        return self.name

    def deliver(self, event_id: str, body: str, payload: dict[str, Any]) -> None:
        self.calls += 1
        if self.fail:
            self.fail -= 1
            raise DeliveryError("boom", permanent=self.permanent)
        self.got.append(event_id)

    def close(self) -> None: ...


def make(outbox: FakeOutbox, *sinks: FakeSink, attempts: int = 5) -> tuple[Dispatcher, ManualClock]:
    clock = ManualClock(0.0)
    d = Dispatcher(
        outbox,
        list(sinks),
        Backoff(1.0, 8.0, attempts),  # type: ignore[arg-type]
        registry=Metrics(CollectorRegistry()),
        clock=clock,
        rng=random.Random(0),
    )
    d.start()
    return d, clock


def drive(d: Dispatcher, clock: ManualClock, seconds: float, step: float = 0.25) -> None:
    end = clock.now + seconds
    while clock.now < end:
        d.step(block_ms=0)
        clock.now += step


def test_all_sinks_then_ack():
    box = FakeOutbox()
    a, b = FakeSink("a"), FakeSink("b")
    d, clock = make(box, a, b)
    box.add(3)
    drive(d, clock, 1)
    assert a.got == b.got == ["ev0-0", "ev1-0", "ev2-0"]
    assert box.acked == ["0-0", "1-0", "2-0"] and not box.pending and not d.inflight


def test_down_sink_is_retried_with_backoff_without_blocking_others():
    box = FakeOutbox()
    up, down = FakeSink("up"), FakeSink("down", fail=3)
    d, clock = make(box, up, down)
    box.add(1)
    d.step(block_ms=0)
    assert up.got == ["ev0-0"] and down.calls == 1 and "0-0" in box.pending
    box.add(1)
    d.step(block_ms=0)
    assert up.got == ["ev0-0", "ev1-0"]  # the new entry went out to the healthy sink
    drive(d, clock, 20)
    assert sorted(down.got) == ["ev0-0", "ev1-0"] and sorted(box.acked) == ["0-0", "1-0"]
    assert box.records[("0-0", "down")] == {"state": "ok"}
    assert down.calls == 5  # 3 failures + 2 successes: retries were spaced out, not spun


def test_gives_up_after_max_attempts_with_the_last_error():
    box = FakeOutbox()
    d, clock = make(box, FakeSink("ok"), FakeSink("bad", fail=99), attempts=3)
    box.add(1)
    drive(d, clock, 60)
    assert box.acked == ["0-0"]
    (letter,) = box.dead
    assert letter["sink"] == "bad" and letter["attempts"] == 3 and letter["error"] == "boom"
    assert json.loads(letter["payload"])["id"] == "0-0" and d.dead == 1


def test_permanent_errors_are_not_retried():
    box = FakeOutbox()
    bad = FakeSink("bad", fail=1, permanent=True)
    d, clock = make(box, bad)
    box.add(1)
    drive(d, clock, 1)
    assert bad.calls == 1 and len(box.dead) == 1 and box.acked == ["0-0"]


def test_restart_resumes_pending_and_skips_sinks_that_succeeded():
    box = FakeOutbox()
    a, b = FakeSink("a"), FakeSink("b", fail=99)
    d, clock = make(box, a, b)
    box.add(1)
    drive(d, clock, 2)
    assert a.got == ["ev0-0"] and "0-0" in box.pending  # b still failing: not acked
    # crash; a new dispatcher with healthy sinks resumes from the outbox's records
    a2, b2 = FakeSink("a"), FakeSink("b")
    d2, clock2 = make(box, a2, b2)
    drive(d2, clock2, 1)
    assert a2.got == [] and b2.got == ["ev0-0"] and box.acked == ["0-0"]
    assert box.records[("0-0", "b")] == {"state": "ok"}


def test_redrive_entry_goes_only_to_its_sink():
    box = FakeOutbox()
    a, b = FakeSink("a"), FakeSink("b")
    d, clock = make(box, a, b)
    box.new.append(Entry("9-0", "ev9", json.dumps({"id": "x"}), frozenset({"b"})))
    drive(d, clock, 1)
    assert a.got == [] and b.got == ["ev9"] and box.acked == ["9-0"]


def test_entries_a_crashed_peer_left_are_adopted():
    box = FakeOutbox()
    a = FakeSink("a")
    d, clock = make(box, a)
    box.stale.append(Entry("7-0", "ev7", json.dumps({"id": "x"})))
    drive(d, clock, 5)
    assert a.got == []  # not checked on every step
    drive(d, clock, 20)
    assert a.got == ["ev7"] and box.acked == ["7-0"]
