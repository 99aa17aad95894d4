"""The ``sentimon consume`` process: scorer + processor + Kafka source + loop + health."""

from __future__ import annotations

import logging

from consumers.app import HealthReporter, build_processor
from consumers.runner import ConsumeLoop
from consumers.source import KafkaSource
from inference.scorer import Scorer
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
    health = HealthReporter(client, processor.keys, loop, source, scorer.model_id)
    loop.on_tick = health.tick
    loop.on_stopping = lambda: health.tick(force=True)
    code = loop.run(source)
    log.info(
        "consumed %d records (%d scored, %d invalid) in %d batches",
        loop.stats.records,
        loop.stats.scored,
        loop.stats.invalid,
        loop.stats.batches,
    )
    return code
