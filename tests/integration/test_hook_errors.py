"""A bug in a batch hook (real Redis, the real alert hook): the batch's aggregates are
written once, the hook's partial changes are not, and the error is counted."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from consumers.dlq import CollectingDeadLetters
from consumers.records import SourceRecord
from consumers.wiring import build_processor
from sentimon.alerts.hook import AlertHook
from sentimon.errors import SinkError
from sentimon.store.query import Query
from sentimon.testing import HashScorer
from tests.integration.feeds import T0

pytestmark = pytest.mark.integration


def _records(first: int, n: int) -> list[SourceRecord]:
    def body(i: int) -> bytes:
        return json.dumps({"id": f"h-{i}", "text": f"$ACME and $BETA {i}", "ts": T0}).encode()

    return [SourceRecord("n", 0, i, T0, body(i)) for i in range(first, first + n)]


def _processor(stack: Any) -> tuple[Any, AlertHook, Query]:
    settings = stack.settings(namespace=f"t-{uuid.uuid4().hex[:8]}", topics=["n"])
    proc = build_processor(settings, HashScorer(), dead_letters=CollectingDeadLetters())
    [hook] = proc.hooks
    assert isinstance(hook, AlertHook)
    return proc, hook, Query(proc.sink.client, settings.namespace)


def _alert_keys(proc: Any) -> list[str]:
    return sorted(k for k in proc.sink.client.keys(f"*{proc.keys.namespace}*") if ":alerts" in k)


def test_a_failing_alert_hook_leaves_the_aggregates_and_nothing_half_done(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc, hook, q = _processor(stack)
    calls = {"n": 0}
    evaluate = hook._evaluate

    def buggy(pair: Any, batch: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:  # after two pairs have added their changes to the plan
            raise KeyError("a bug")
        evaluate(pair, batch)

    monkeypatch.setattr(hook, "_evaluate", buggy)
    result = proc.process(_records(0, 10))
    assert result.scored == 10
    counters = q.counters()
    assert (counters["scored"], counters["hook_errors"]) == (10, 1)
    assert q.applied_offsets() == {"n:0": 9}
    assert _alert_keys(proc) == []  # not even the baseline sums planned before the bug

    monkeypatch.setattr(hook, "_evaluate", evaluate)
    proc.process(_records(10, 10))
    assert q.counters()["hook_errors"] == 1 and _alert_keys(proc) != []


def test_a_hook_that_cannot_read_redis_fails_the_batch(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    proc, hook, q = _processor(stack)

    def unreachable(*_: Any) -> None:
        raise SinkError("reading alert state from Redis failed")

    monkeypatch.setattr(hook.store, "fetch", unreachable)
    with pytest.raises(SinkError):
        proc.process(_records(0, 5))
    assert q.counters() == {} and q.applied_offsets() == {}
