"""The consume service: scorer + processor + Kafka source + loop + health.

``run_consumer`` (and ``Consumer``, the same as an object with ``run()``/``stop()``) runs
one group member in the calling process and changes nothing process-wide: no signal
handlers, no GIL switch interval, no environment variables. Those belong to the entry
point (``sentimon consume``, ``sentimon.cli.consume_cmd.serve``), which installs
SIGTERM/SIGINT handlers that call ``stop`` (a stop ends start-up retries at once, or
drains the loop for at most ``shutdown_grace_s``) and, last, ``exit_when_workers_stuck``,
so a worker thread stuck past the grace period does not keep the process alive.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
import threading
import time
from typing import Any

from consumers.observe import ConsumerObserver
from consumers.runner import ConsumeLoop
from consumers.source import KafkaSource
from consumers.wiring import HealthReporter, build_processor
from inference import load_scorer
from inference.scorer import Scorer, warm_up
from sentimon import metrics
from sentimon.alerts.rulefile import load_rules
from sentimon.settings import Settings
from sentimon.store.client import UNHEALTHY_AFTER_S, RedisState, StopRequestedError, connect

log = logging.getLogger(__name__)

#: Worker threads of the loop (``consumers.runner``): joined at interpreter exit.
_WORKER_PREFIXES = ("sentimon-score", "sentimon-write")
#: After the grace period, how long a stuck worker may still hold the process.
_EXIT_MARGIN_S = 3.0
#: How often a running loop looks at its stop event.
_STOP_POLL_S = 0.05


class _Health:
    """``/healthz`` from process start: start-up (Redis being retried), then the loop's."""

    def __init__(self, redis_state: RedisState) -> None:
        self.redis_state = redis_state
        self.observer: ConsumerObserver | None = None

    def __call__(self) -> dict[str, Any]:
        if self.observer is not None:
            return self.observer.health()
        metrics.set_redis_up(self.redis_state.ok)
        return {
            "healthy": self.redis_state.down_for() < UNHEALTHY_AFTER_S,
            "starting": True,
            "redis": self.redis_state.snapshot(),
        }


def run_consumer(
    settings: Settings,
    *,
    group: str | None = None,
    until_idle_s: float | None = None,
    namespace: str | None = None,
    metrics_port: int | None = None,
    scorer: Scorer | None = None,
    summary: dict[str, Any] | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run one group member until ``stop`` is set (from another thread or a signal
    handler) or, with ``until_idle_s``, until idle; fills ``summary`` if given. A stop
    during start-up (even while Redis is being retried, or the model loads) returns 0 at
    once; a stop while running drains for at most ``shutdown_grace_s``. Installs no
    signal handlers and changes no process-wide setting."""
    stop = stop if stop is not None else threading.Event()
    if settings.alerts_enabled:
        load_rules(
            settings.alert_rules, exchange=settings.exchange
        )  # a bad rules file fails now, not after model load
    if scorer is None:
        scorer = load_scorer(settings)

        log.info("model warmed up in %.2fs", warm_up(scorer, settings.max_batch))
    log.info("scoring with %s", scorer.model_id)
    redis_state = RedisState()
    health = _Health(redis_state)
    server = (
        metrics.serve(metrics_port, health=health, host=settings.metrics_host)
        if metrics_port
        else None
    )
    try:
        loop = _start_loop(settings, scorer, stop, redis_state, until_idle_s, namespace)
        if loop is None:
            log.info("stopped during start-up: exiting")
            return 0
        code = _run_loop(settings, loop, health, group, scorer.model_id, stop)
    finally:
        if server is not None:
            server.close()
    log.info(
        "consumed %d records (%d scored, %d invalid) in %d writes (%d more batches "
        "merged into them)",
        loop.stats.records,
        loop.stats.scored,
        loop.stats.invalid,
        loop.stats.batches,
        loop.stats.coalesced,
    )
    if summary is not None:
        summary.update(run_summary(loop))
    return code


class Consumer:
    """One consumer-group member run from Python: ``run()`` blocks until ``stop()`` is
    called (from another thread) or, with ``until_idle_s``, until idle, and returns the
    exit code (0). Nothing process-wide changes (no signal handlers, switch interval or
    environment variables); ``summary`` holds throughput figures after ``run()``.
    A Consumer runs once: a ``stop()`` before ``run()`` makes ``run()`` return at once.

    >>> consumer = Consumer(settings, group="research")
    >>> thread = threading.Thread(target=consumer.run); thread.start()
    >>> ...; consumer.stop(); thread.join()
    """

    def __init__(
        self,
        settings: Settings,
        *,
        scorer: Scorer | None = None,
        group: str | None = None,
        namespace: str | None = None,
        until_idle_s: float | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.settings = settings
        self.scorer = scorer
        self.group = group
        self.namespace = namespace
        self.until_idle_s = until_idle_s
        self.metrics_port = metrics_port
        self.summary: dict[str, Any] = {}
        self._stop = threading.Event()

    def run(self) -> int:
        """Join the group and consume (loads the scorer first unless one was given)."""
        return run_consumer(
            self.settings,
            group=self.group,
            until_idle_s=self.until_idle_s,
            namespace=self.namespace,
            metrics_port=self.metrics_port,
            scorer=self.scorer,
            summary=self.summary,
            stop=self._stop,
        )

    def stop(self) -> None:
        """Ask ``run()`` to finish: at once during start-up, else after draining for at most
        ``shutdown_grace_s``. Safe from any thread and from a signal handler."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()


def _start_loop(
    settings: Settings,
    scorer: Scorer,
    stop: threading.Event,
    redis_state: RedisState,
    until_idle_s: float | None,
    namespace: str | None,
) -> ConsumeLoop | None:
    """The processor and loop, Redis calls retried until they succeed; None if a stop
    came first."""
    if stop.is_set():
        return None
    client = connect(settings)
    try:
        processor = build_processor(
            settings,
            scorer,
            client=client,
            namespace=namespace,
            stop=stop,
            redis_state=redis_state,
        )
    except StopRequestedError:
        return None
    loop = ConsumeLoop(
        processor,
        max_batch=settings.max_batch,
        max_wait_ms=settings.max_wait_ms,
        until_idle_s=until_idle_s,
        commit_interval_s=settings.commit_interval_ms / 1000,
        coalesce=settings.coalesce_batches,
        shutdown_grace_s=settings.shutdown_grace_s,
        assignment_wait_s=settings.assignment_wait_s,
        redis_state=redis_state,
    )
    return None if stop.is_set() else loop


def _run_loop(
    settings: Settings,
    loop: ConsumeLoop,
    health: _Health,
    group: str | None,
    model_id: str,
    stop: threading.Event,
) -> int:
    """Join the group and run the loop with its observer and health reporter until it
    returns; ``stop`` set meanwhile stops it within ``_STOP_POLL_S`` (the grace period
    counts from then, even while the loop sleeps out a retry backoff)."""
    source = KafkaSource(
        settings,
        group=group or settings.group,
        on_assigned=loop.on_assigned,
        on_revoked=loop.on_revoked,
    )
    observer = ConsumerObserver(loop, source, model_id)
    reporter = HealthReporter(
        loop.processor.sink.client,
        loop.processor.keys,
        observer,
        model_health=loop.processor.health,
    )

    def tick() -> None:
        observer.tick()
        reporter.tick()

    loop.on_batch = observer.on_batch
    loop.on_tick = tick
    loop.on_stopping = lambda: reporter.tick(force=True)
    health.observer = observer
    done = threading.Event()

    def relay_stop() -> None:
        while not done.is_set():
            if stop.wait(_STOP_POLL_S):
                loop.stop()
                return

    relay = threading.Thread(target=relay_stop, name="sentimon-stop", daemon=True)
    relay.start()
    try:
        return loop.run(source)
    finally:
        done.set()


def exit_when_workers_stuck(code: int, within_s: float = _EXIT_MARGIN_S) -> None:
    """For a command line, after the consumer returned: give the loop's worker threads
    ``within_s`` to end (one stuck in a Redis call ends within the socket timeout; a
    DLQ publish or a scorer can take longer), then end the process with ``code`` without
    waiting for them, as Python's exit would (it joins them). What they had not written
    stays uncommitted, which redelivery and the fences make safe."""
    deadline = time.monotonic() + within_s
    workers = [t for t in threading.enumerate() if t.name.startswith(_WORKER_PREFIXES)]
    for thread in workers:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in workers if t.is_alive()]
    if not stuck:
        return
    log.error(
        "worker threads still busy %.0fs after the loop stopped (%s): exiting now, what "
        "they had not written stays uncommitted",
        within_s,
        ", ".join(stuck),
    )
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(code)


def run_summary(loop: ConsumeLoop) -> dict[str, float | int | None]:
    """Throughput and CPU time (all threads) from first poll to last commit, and peak
    memory of this process."""
    stats = loop.stats
    span = (
        stats.last_commit - stats.first_poll
        if stats.first_poll is not None and stats.last_commit is not None
        else None
    )
    return {
        "records": stats.records,
        "scored": stats.scored,
        "invalid": stats.invalid,
        "batches": stats.batches,
        "coalesced": stats.coalesced,
        "seconds": round(span, 4) if span is not None else None,
        "records_per_second": round(stats.records / span, 2) if span else None,
        "cpu_seconds": (
            round(stats.cpu_last_commit - stats.cpu_first_poll, 3)
            if stats.cpu_first_poll is not None and stats.cpu_last_commit is not None
            else None
        ),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "first_poll_wall": _wall(stats.first_poll),
        "last_commit_wall": _wall(stats.last_commit),
    }


def _wall(monotonic: float | None) -> float | None:
    """A monotonic reading as wall-clock time (to compare across processes)."""
    return None if monotonic is None else time.time() - (time.monotonic() - monotonic)
