"""The ``sentimon consume`` process: scorer + processor + Kafka source + loop + health."""

from __future__ import annotations

import logging
import resource
import sys
import time
from typing import Any

from consumers.app import HealthReporter, build_processor
from consumers.observe import ConsumerObserver
from consumers.runner import ConsumeLoop
from consumers.source import KafkaSource
from inference.scorer import Scorer
from sentimon import metrics
from sentimon.redis_client import connect
from sentimon.settings import Settings

log = logging.getLogger(__name__)


def run_consumer(
    settings: Settings,
    *,
    group: str | None = None,
    until_idle_s: float | None = None,
    namespace: str | None = None,
    metrics_port: int | None = None,
    scorer: Scorer | None = None,
    summary: dict[str, Any] | None = None,
) -> int:
    """Run one group member until stopped or idle; fills ``summary`` if given."""
    if settings.alerts_enabled:
        from sentimon.alerts.rulefile import load_rules

        load_rules(settings.alert_rules)  # a bad rules file fails now, not after model load
    if scorer is None:
        from inference import load_scorer

        scorer = load_scorer(settings)
        from inference.scorer import warm_up

        log.info("model warmed up in %.2fs", warm_up(scorer, settings.max_batch))
    # Scorer threads come back from ONNX Runtime (which runs without the GIL) needing the
    # GIL for a moment; the default 5 ms switch interval can leave a core idle that long
    # while the writer thread runs Python. 1 ms: +1.2 % msg/s over five paired runs.
    sys.setswitchinterval(0.001)
    log.info("scoring with %s", scorer.model_id)
    client = connect(settings)
    processor = build_processor(settings, scorer, client=client, namespace=namespace)
    loop = ConsumeLoop(
        processor,
        max_batch=settings.max_batch,
        max_wait_ms=settings.max_wait_ms,
        until_idle_s=until_idle_s,
        commit_interval_s=settings.commit_interval_ms / 1000,
        coalesce=settings.coalesce_batches,
    )
    loop.install_signal_handlers()
    source = KafkaSource(
        settings,
        group=group or settings.group,
        on_assigned=loop.on_assigned,
        on_revoked=loop.on_revoked,
    )
    observer = ConsumerObserver(loop, source, scorer.model_id)
    health = HealthReporter(client, processor.keys, observer)

    def tick() -> None:
        observer.tick()
        health.tick()

    loop.on_batch = observer.on_batch
    loop.on_tick = tick
    loop.on_stopping = lambda: health.tick(force=True)
    server = (
        metrics.serve(metrics_port, health=observer.health, host=settings.metrics_host)
        if metrics_port
        else None
    )
    try:
        code = loop.run(source)
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
