"""The alert dispatcher: drains the outbox into the sinks, never losing a notice.

For each outbox entry every sink is tried; a failed sink is retried with exponential
backoff and jitter while other entries and sinks carry on; after ``max_attempts`` (or a
permanent error) the notice goes to that sink's dead-letter list with the last error. The
entry is acknowledged only when every sink has succeeded or given up, and each sink's
outcome is recorded as it happens, so after a crash or restart the dispatcher resumes the
pending entries and re-sends only to sinks whose success it had not yet recorded (those
receivers see the same ``Idempotency-Key`` again).

With a routing tree (``router``), a notice is first routed into its alert groups
(``sentimon.alerts.router``) and acknowledged in the same Redis transaction; a group's
notification comes back through the outbox addressed to its receiver's sinks (``sinks``)
and is delivered as above. Entries with ``sinks`` (notifications, redrives) are never
routed.

The consumer never waits for any of this: it only appends to the outbox.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import redis

from sentimon import metrics
from sentimon.alerts.backoff import Backoff
from sentimon.alerts.outbox import Entry, Outbox
from sentimon.alerts.router import Router
from sentimon.alerts.sinks import DeliveryError, Periodic, Sink

log = logging.getLogger(__name__)

_CLAIM_IDLE_MS = 60_000
_READ_COUNT = 100
_MAX_BLOCK_MS = 1000


@dataclass
class _Try:
    attempts: int = 0
    next_at: float = 0.0
    error: str = ""


@dataclass
class _Delivery:
    entry: Entry
    payload: dict[str, Any]
    todo: dict[str, _Try] = field(default_factory=dict)
    done: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        outbox: Outbox,
        sinks: list[Sink],
        backoff: Backoff,
        *,
        registry: metrics.Metrics = metrics.DEFAULT,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        router: Router | None = None,
    ) -> None:
        self.router = router
        #: ``run(once=True)``: flush every group with news at once, not at its time
        self.force_flush = False
        self.outbox = outbox
        self.sinks = {sink.name: sink for sink in sinks}
        self.backoff = backoff
        self.metrics = registry
        self.clock = clock
        self.rng = rng or random.Random()
        self.inflight: dict[str, _Delivery] = {}
        self.delivered = 0
        self.dead = 0
        self.healthy = False
        self._last_touch = clock()

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Create the group, resume this dispatcher's pending entries, adopt stale ones."""
        self.outbox.ensure_group()
        for sink in self._periodic():  # e.g. the Alertmanager sink's re-send state
            sink.open(self.outbox.client, self.outbox.keys)
        resumed = self.outbox.read_own_pending()
        claimed = self.outbox.claim_stale(_CLAIM_IDLE_MS)
        for entry in [*resumed, *claimed]:
            self._route_or_take(entry)
        if self.inflight:
            log.info("resuming %d pending alert deliveries", len(self.inflight))
        self.healthy = True

    def run(self, stop: threading.Event, *, once: bool = False) -> int:
        """Deliver until ``stop`` is set (or, with ``once``, until nothing is left)."""
        self.start()
        self.force_flush = once
        while not stop.is_set():
            try:
                fresh = self.step(block_ms=100 if once else None)
                self.healthy = True
            except redis.RedisError as exc:
                self.healthy = False
                log.warning("outbox unavailable (%s); retrying in 1s", exc)
                stop.wait(1.0)
                continue
            if once and not fresh and not self.inflight:
                break
            self._idle(stop)
        for sink in self.sinks.values():
            sink.close()
        return 0

    def step(self, block_ms: int | None = None) -> int:
        """Read new entries, attempt what is due, acknowledge what is done."""
        block = self._block_ms() if block_ms is None else block_ms
        entries = self.outbox.read_new(_READ_COUNT, block)
        for entry in entries:
            self._route_or_take(entry)
        if self.router is not None:
            self.router.flush_due(force=self.force_flush)
        self._attempt_due()
        self._keep_claimed()
        for sink in self._periodic():  # re-send what is due (sentimon.alerts.sinks.Periodic)
            sink.tick()
        return len(entries)

    def _periodic(self) -> list[Periodic]:
        return [sink for sink in self.sinks.values() if isinstance(sink, Periodic)]

    def _block_ms(self) -> int:
        if not self.inflight:
            return _MAX_BLOCK_MS
        soonest = min(t.next_at for d in self.inflight.values() for t in d.todo.values())
        return max(1, min(_MAX_BLOCK_MS, int((soonest - self.clock()) * 1000)))

    def _idle(self, stop: threading.Event) -> None:
        if self.inflight and not any(
            t.next_at <= self.clock() for d in self.inflight.values() for t in d.todo.values()
        ):
            stop.wait(min(self._block_ms() / 1000, 0.05))

    def _keep_claimed(self) -> None:
        """Every 20 s: touch the entries this dispatcher is still retrying, so they do not
        look abandoned to others, and adopt entries a crashed peer left idle for 60 s."""
        now = self.clock()
        if now - self._last_touch < _CLAIM_IDLE_MS / 3000:
            return
        self._last_touch = now
        if self.inflight:
            self.outbox.touch(self.inflight)
        for entry in self.outbox.claim_stale(_CLAIM_IDLE_MS):
            log.info("adopting %s, left pending by another dispatcher", entry.event_id)
            self._route_or_take(entry)

    # --- entries -----------------------------------------------------------------------
    def _route_or_take(self, entry: Entry) -> None:
        if self.router is not None and entry.sinks is None:
            self.router.accept(entry)
        else:
            self._take(entry)

    def _take(self, entry: Entry) -> None:
        if entry.entry_id in self.inflight:
            return
        try:
            payload = entry.payload
        except ValueError:
            log.error("outbox entry %s is not JSON; dead-lettering it", entry.entry_id)
            payload = {}
        wanted = [n for n in self.sinks if entry.sinks is None or n in entry.sinks]
        delivery = _Delivery(entry, payload)
        progress = self.outbox.progress(entry.entry_id, wanted)
        for name in wanted:
            state = progress.get(name, {})
            if state.get("state") in ("ok", "dead"):
                delivery.done.append(name)
            else:
                delivery.todo[name] = _Try(attempts=int(state.get("attempts", 0)))
        self.inflight[entry.entry_id] = delivery
        self._finish_if_done(delivery)

    def _attempt_due(self) -> None:
        for delivery in list(self.inflight.values()):
            for name, attempt in list(delivery.todo.items()):
                if attempt.next_at <= self.clock():
                    self._attempt(delivery, name, attempt)
            self._finish_if_done(delivery)

    def _attempt(self, delivery: _Delivery, name: str, attempt: _Try) -> None:
        entry = delivery.entry
        try:
            if not delivery.payload:
                raise DeliveryError("payload is not a JSON object", permanent=True)
            self.sinks[name].deliver(entry.event_id, entry.body, delivery.payload)
        except DeliveryError as exc:
            self._failed(delivery, name, attempt, exc)
            return
        self.outbox.record(entry.entry_id, name, {"state": "ok"})
        self.metrics.alert_deliveries.labels(name).inc()
        self.delivered += 1
        delivery.todo.pop(name)
        delivery.done.append(name)
        log.info("delivered %s to %s", entry.event_id, name)

    def _failed(self, delivery: _Delivery, name: str, attempt: _Try, exc: DeliveryError) -> None:
        entry = delivery.entry
        attempt.attempts += 1
        attempt.error = str(exc)
        if exc.permanent or self.backoff.exhausted(attempt.attempts):
            self.outbox.dead_letter(
                entry.entry_id,
                name,
                {
                    "event_id": entry.event_id,
                    "entry_id": entry.entry_id,
                    "sink": name,
                    "target": self.sinks[name].describe(),
                    "attempts": attempt.attempts,
                    "error": attempt.error,
                    "failed_ms": int(time.time() * 1000),
                    "permanent": exc.permanent,
                    "payload": entry.body,
                },
            )
            self.metrics.alert_failures.labels(name).inc()
            self.dead += 1
            delivery.todo.pop(name)
            delivery.done.append(name)
            log.error(
                "gave up delivering %s to %s after %d attempts: %s",
                entry.event_id,
                name,
                attempt.attempts,
                attempt.error,
            )
            return
        delay = self.backoff.delay(attempt.attempts, self.rng, exc.retry_after_s)
        attempt.next_at = self.clock() + delay
        self.outbox.record(
            entry.entry_id,
            name,
            {"state": "retry", "attempts": attempt.attempts, "error": attempt.error},
        )
        self.metrics.alert_retries.labels(name).inc()
        log.warning(
            "delivering %s to %s failed (%s); retry %d in %.1fs",
            entry.event_id,
            name,
            attempt.error,
            attempt.attempts,
            delay,
        )

    def _finish_if_done(self, delivery: _Delivery) -> None:
        if delivery.todo:
            return
        self.outbox.ack(delivery.entry.entry_id, delivery.done)
        self.inflight.pop(delivery.entry.entry_id, None)

    def health(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "inflight": len(self.inflight),
            "delivered": self.delivered,
            "dead_lettered": self.dead,
            "sinks": sorted(self.sinks),
        }
