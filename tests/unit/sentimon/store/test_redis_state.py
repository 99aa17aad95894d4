"""Redis trouble as the consumer sees it: the state tracker (one log line per change), the
PING wait before a write is re-sent, start-up retries, and the error classification."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import redis
from redis.exceptions import BusyLoadingError, ResponseError

from sentimon.errors import SinkError
from sentimon.store.client import (
    RedisState,
    StopRequestedError,
    is_transient,
    needs_ping,
    redis_error_of,
    retry_until_ok,
    wait_until_redis_answers,
)
from sentimon.testing import FlakyPingClient, ManualClock

BUSY = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSCRIPT."


def test_classification() -> None:
    assert is_transient(ResponseError(BUSY)) and needs_ping(ResponseError(BUSY))
    assert is_transient(BusyLoadingError("LOADING")) and needs_ping(BusyLoadingError("x"))
    assert is_transient(redis.ConnectionError("refused")) and needs_ping(redis.TimeoutError())
    assert is_transient(ResponseError("READONLY You can't write against a read only replica."))
    assert not needs_ping(ResponseError("READONLY You can't write against a replica."))
    assert not is_transient(ResponseError("NOPERM this user has no permissions"))
    assert not is_transient(ResponseError("ERR Error running script"))


def test_the_redis_error_behind_a_sink_error_is_found() -> None:
    cause = ResponseError(BUSY)
    try:
        try:
            raise cause
        except redis.RedisError as exc:
            raise SinkError("Redis write failed") from exc
    except SinkError as wrapped:
        assert redis_error_of(wrapped) is cause
    assert redis_error_of(SinkError("DLQ publish failed")) is None


def test_n_failures_log_one_warning_and_recovery_one_info(caplog) -> None:
    clock, wall = ManualClock(1000.0), ManualClock(1_700_000_000.0)
    state = RedisState(clock=clock, wall=wall)
    with caplog.at_level(logging.DEBUG, logger="sentimon.store.client"):
        for _ in range(5):
            state.failed(ResponseError(BUSY), action="retrying with backoff up to 10s")
            clock.now += 2.0
        state.recovered()
        state.recovered()  # already ok: nothing more
    by_level = [(r.levelname, r.getMessage()) for r in caplog.records]
    warnings = [m for level, m in by_level if level == "WARNING"]
    infos = [m for level, m in by_level if level == "INFO"]
    assert len(warnings) == 1 and len(infos) == 1, by_level
    assert warnings[0].startswith("Redis unavailable (ResponseError: BUSY Redis is busy")
    assert warnings[0].endswith("retrying with backoff up to 10s")
    assert infos[0].startswith("Redis available again after 10.0s and 5 retries")
    assert sum(level == "DEBUG" for level, _ in by_level) == 4
    snap = state.snapshot()
    assert snap["ok"] is True
    assert snap["last_outage"] == {
        "error": snap["last_outage"]["error"],
        "since": 1_700_000_000.0,
        "until": 1_700_000_000.0,  # the fake wall clock did not move
        "seconds": 0.0,
        "retries": 5,
    }


def test_snapshot_while_unavailable() -> None:
    clock = ManualClock(1000.0)
    state = RedisState(clock=clock, wall=lambda: 1_700_000_000.0)
    assert state.snapshot() == {"ok": True} and state.down_for() == 0.0
    state.failed(redis.ConnectionError("Connection refused"), action="retrying")
    clock.now += 7.5
    snap = state.snapshot()
    assert snap["ok"] is False and snap["down_s"] == 7.5 and snap["retries"] == 1
    assert snap["error"] == "ConnectionError: Connection refused"
    assert state.down_for() == 7.5


def test_ping_wait_retries_on_busy_until_redis_answers() -> None:
    client = FlakyPingClient(ResponseError(BUSY), ResponseError(BUSY), BusyLoadingError("LOADING"))
    assert wait_until_redis_answers(client, threading.Event(), max_backoff_s=0.01)  # type: ignore[arg-type]
    assert client.pings == 4


def test_ping_wait_stops_on_the_stop_event() -> None:
    client = FlakyPingClient(error=ResponseError(BUSY))
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    assert not wait_until_redis_answers(client, stop, max_backoff_s=5.0)  # type: ignore[arg-type]
    assert time.monotonic() - started < 1.5
    assert client.pings >= 2


def test_ping_wait_gives_up_at_the_deadline() -> None:
    client = FlakyPingClient(error=redis.ConnectionError("refused"))
    deadline = time.monotonic() + 0.3
    assert not wait_until_redis_answers(client, threading.Event(), deadline)  # type: ignore[arg-type]
    assert time.monotonic() - deadline < 0.3


def test_ping_wait_counts_another_reply_as_an_answer() -> None:
    client = FlakyPingClient(ResponseError("NOPERM no permissions to run 'ping'"))
    assert wait_until_redis_answers(client, threading.Event())  # type: ignore[arg-type]


def test_start_up_call_is_retried_until_it_succeeds(caplog) -> None:
    calls = FlakyPingClient(redis.ConnectionError("refused"), ResponseError(BUSY))
    state = RedisState()
    with caplog.at_level(logging.INFO, logger="sentimon.store.client"):
        assert retry_until_ok(
            calls.ping, what="registering", state=state, stop=threading.Event(), max_backoff_s=0.01
        )
    assert calls.pings == 3 and state.ok
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]


def test_start_up_retries_end_when_asked_to_stop() -> None:
    calls = FlakyPingClient(error=redis.ConnectionError("refused"))
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(StopRequestedError):
        retry_until_ok(calls.ping, what="registering", state=RedisState(), stop=stop)
    assert time.monotonic() - started < 1.5


def test_start_up_does_not_retry_a_configuration_error() -> None:
    calls = FlakyPingClient(ResponseError("NOPERM this user has no permissions"))
    with pytest.raises(ResponseError, match="NOPERM"):
        retry_until_ok(calls.ping, what="registering", state=RedisState(), stop=threading.Event())
    assert calls.pings == 1


def test_a_failure_of_a_call_begun_before_the_recovery_is_old_news(caplog) -> None:
    clock = ManualClock(1000.0)
    state = RedisState(clock=clock)
    state.failed(redis.ConnectionError("refused"), action="retrying", began=clock.now)
    clock.now += 5
    began_during_outage = clock.now
    clock.now += 1
    state.recovered()
    clock.now += 0.1
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="sentimon.store.client"):
        state.failed(redis.ConnectionError("refused"), action="retrying", began=began_during_outage)
    assert state.ok  # a batch scored during the outage, failing after it: not a new one
    assert [r.levelname for r in caplog.records] == ["DEBUG"]
    state.failed(redis.ConnectionError("refused"), action="retrying", began=clock.now)
    assert not state.ok
