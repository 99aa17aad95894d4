"""Redis connections, and what the consumer does while Redis is unavailable.

``connect`` turns settings into a client. A call on it is bounded by about one socket
timeout: redis-py's default policy retries a failed call ten times with backoff, so one
call against a hung server could take close to a minute, which would stall shutdowns and
rebalance callbacks; here a broken connection is retried once, at once (a pooled
connection that died with a Redis restart), and a timeout not at all. Callers that keep
running (the consumer) retry on their own, with capped backoff.

``RedisState`` is one process's view of whether Redis answers (logged once per change,
shown in ``/healthz``, the health snapshot and a gauge); ``retry_until_ok`` retries a
start-up call; ``wait_until_redis_answers`` holds a write back until ``PING`` answers
again, so a script is never re-sent blindly into a Redis that is busy, loading or gone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

from sentimon.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Error replies of a Redis that is there but cannot serve now: a script running past
#: ``busy-reply-threshold``, a data set loading, a failover in progress, memory full
#: (``noeviction``: writes fail until memory is freed).
_TRANSIENT_REPLIES = (
    "BUSY",
    "LOADING",
    "READONLY",
    "MASTERDOWN",
    "TRYAGAIN",
    "CLUSTERDOWN",
    "OOM",
)
#: Replies after which a write waits for ``PING`` before it is sent again.
_WAIT_REPLIES = ("BUSY", "LOADING")
#: ``/healthz`` turns unhealthy once Redis has been unavailable this long (a blip, or
#: the first failed write of a restart, should not flap the probe).
UNHEALTHY_AFTER_S = 5.0


def connect(settings: Settings, *, timeout_s: float = 5.0) -> redis.Redis:
    """A client with decoded responses; ``rediss://`` URLs get TLS, credentials come from the URL."""
    return redis.Redis.from_url(
        settings.redis_url.get_secret_value(),
        decode_responses=True,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )


def redis_error_of(exc: BaseException) -> redis.RedisError | None:
    """The Redis error ``exc`` is or was raised from (``SinkError`` wraps them), if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, redis.RedisError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _reply_code(err: redis.RedisError) -> str:
    return str(err).split(" ", 1)[0].upper() if isinstance(err, ResponseError) else ""


def is_transient(err: redis.RedisError) -> bool:
    """Redis is unreachable, busy, loading or failing over: worth retrying as it is.
    (``BusyLoadingError`` is a ``ConnectionError``.)"""
    return isinstance(err, RedisConnectionError | RedisTimeoutError) or (
        _reply_code(err) in _TRANSIENT_REPLIES
    )


def needs_ping(err: redis.RedisError) -> bool:
    """After this error the next write waits until Redis answers ``PING``: it timed out
    (the script may still be running), the connection failed, or Redis said BUSY or
    LOADING."""
    return isinstance(err, RedisConnectionError | RedisTimeoutError) or (
        _reply_code(err) in _WAIT_REPLIES
    )


def describe(err: BaseException) -> str:
    """``Class: message`` of an error, short enough for a log line and a health field."""
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:160]}" if text else type(err).__name__


@dataclass(frozen=True)
class Outage:
    """One stretch of Redis being unavailable (wall-clock times, seconds); ``retries``:
    the calls that failed meanwhile, each retried."""

    error: str
    since: float
    until: float | None = None
    retries: int = 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.error, "since": round(self.since, 3)}
        if self.until is not None:
            out["until"] = round(self.until, 3)
            out["seconds"] = round(self.until - self.since, 3)
        out["retries"] = self.retries
        return out


class RedisState:
    """Whether Redis answers, as this process last saw it; thread-safe.

    ``failed`` and ``recovered`` log once per state change: a WARNING when Redis becomes
    unavailable (the error class and what happens meanwhile), DEBUG while it stays so, an
    INFO with the outage's length and retries when it answers again. A failure of a call
    that began before the last recovery (a batch scored during the outage, written after
    it) is old news: it is logged at DEBUG and changes nothing."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._clock, self._wall = clock, wall
        self._lock = threading.Lock()
        self._current: Outage | None = None
        self._began = 0.0  # ``clock`` time the current outage began
        self._recovered_at: float | None = None  # ``clock`` time of the last recovery
        self.last: Outage | None = None

    @property
    def ok(self) -> bool:
        return self._current is None

    def down_for(self) -> float:
        """Seconds Redis has been unavailable (0 while it answers)."""
        with self._lock:
            return 0.0 if self._current is None else self._clock() - self._began

    def failed(self, err: BaseException, *, action: str, began: float | None = None) -> None:
        """A call failed because of Redis; ``action`` says what happens now; ``began``:
        when the call started (``clock`` time), if known."""
        reason = describe(err)
        with self._lock:
            current = self._current
            if current is None and self._before_recovery(began):
                retries = 0  # old news
            elif current is None:
                self._current = Outage(reason, self._wall(), retries=1)
                self._began = self._clock()
                retries = 1
            else:
                retries = current.retries + 1
                self._current = Outage(reason, current.since, retries=retries)
        if retries == 0:
            log.debug("Redis error from before it answered again (%s): retrying", reason)
        elif retries == 1:
            log.warning("Redis unavailable (%s): %s", reason, action)
        else:
            log.debug("Redis still unavailable (%s): failure %d", reason, retries)

    def _before_recovery(self, began: float | None) -> bool:
        recovered = self._recovered_at
        return began is not None and recovered is not None and began < recovered

    def recovered(self) -> None:
        """A call succeeded: Redis answers."""
        with self._lock:
            current = self._current
            if current is None:
                return
            self.last = Outage(current.error, current.since, self._wall(), current.retries)
            self._current = None
            self._recovered_at = self._clock()
            took = self._recovered_at - self._began
        log.info(
            "Redis available again after %.1fs and %d retries (%s)",
            took,
            current.retries,
            current.error,
        )

    def snapshot(self) -> dict[str, Any]:
        """JSON-able: ``ok``, and while unavailable ``error``/``since``/``retries``;
        ``last_outage`` once one has ended."""
        with self._lock:
            current, last = self._current, self.last
            down = 0.0 if current is None else self._clock() - self._began
        out: dict[str, Any] = {"ok": current is None}
        if current is not None:
            out.update(current.as_dict())
            out["down_s"] = round(down, 3)
        if last is not None:
            out["last_outage"] = last.as_dict()
        return out


class StopRequestedError(Exception):
    """The process was asked to stop while a start-up call was being retried."""


def retry_until_ok(
    call: Callable[[], T],
    *,
    what: str,
    state: RedisState,
    stop: threading.Event,
    max_backoff_s: float = 10.0,
) -> T:
    """``call()`` until it succeeds, retrying transient Redis errors with capped backoff.
    Raises ``StopRequestedError`` once ``stop`` is set; other Redis errors (a wrong password
    is a ``ConnectionError`` and retried, a missing ACL permission is not) are raised."""
    delay = min(0.2, max_backoff_s)
    while True:
        if stop.is_set():
            raise StopRequestedError(what)
        try:
            result = call()
        except redis.RedisError as exc:
            if not is_transient(exc):
                raise
            state.failed(exc, action=f"{what}: retrying with backoff up to {max_backoff_s:g}s")
            if stop.wait(delay):
                raise StopRequestedError(what) from exc
            delay = min(max_backoff_s, delay * 2)
            continue
        state.recovered()
        return result


def wait_until_redis_answers(
    client: redis.Redis,
    stop: threading.Event,
    deadline: float | None = None,
    *,
    max_backoff_s: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Wait until ``PING`` answers (it answers BUSY while a script runs, LOADING while a
    data set loads), with capped backoff. False when ``stop`` is set or ``deadline``
    (``clock`` time) passes first. A reply other than those counts as an answer: the
    caller's own call will say what is wrong."""
    delay = min(0.1, max_backoff_s)
    while not stop.is_set():
        try:
            client.ping()
            return True
        except redis.RedisError as exc:
            if not needs_ping(exc) and not is_transient(exc):
                return True
            log.debug("waiting for Redis to answer PING (%s)", describe(exc))
        pause = delay if deadline is None else min(delay, deadline - clock())
        if pause <= 0 or stop.wait(pause):
            return False
        delay = min(max_backoff_s, delay * 2)
    return False
