"""The ``sentimon consume`` process: scorer + processor + Kafka source + loop + health."""

from __future__ import annotations

import logging

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
) -> int:
    if scorer is None:
        from inference import load_scorer

        scorer = load_scorer(settings)
    log.info("scoring with %s", scorer.model_id)
    client = connect(settings)
    processor = build_processor(settings, scorer, client=client, namespace=namespace)
    loop = ConsumeLoop(
        processor,
        max_batch=settings.max_batch,
        max_wait_ms=settings.max_wait_ms,
        until_idle_s=until_idle_s,
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
        "consumed %d records (%d scored, %d invalid) in %d batches",
        loop.stats.records,
        loop.stats.scored,
        loop.stats.invalid,
        loop.stats.batches,
    )
    return code
