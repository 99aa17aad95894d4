"""One replay or file backtest, start to finish: guard the namespace, record its metadata,
build the live processor for it, drive the source through it, summarise and report.

Dead letters of a replay are collected in memory and counted in the namespace (they are
already in ``<topic>.dlq`` from the live run); nothing is ever written to a Kafka topic,
and a backtest writes no alert outbox (its alerts are in its history and report), so
receivers never hear of backtest alerts; ``ReplaySpec.outbox`` (``--outbox``, else
``SENTIMON_REPLAY_OUTBOX``) queues them anyway, for a dispatcher run on purpose.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from tqdm import tqdm

from consumers.dlq import CollectingDeadLetters
from consumers.wiring import build_processor
from inference import load_scorer
from inference.scorer import Scorer
from sentimon.alerts.rulefile import default_rules_text, load_rules
from sentimon.errors import ConfigError
from sentimon.eventtime import EventTimePolicy
from sentimon.replay import namespaces
from sentimon.replay.driver import Driver, RunStats
from sentimon.replay.file_source import FileReplay
from sentimon.replay.kafka_source import KafkaReplay, ReplayError
from sentimon.replay.merge import EventPacer, TimeRange
from sentimon.replay.report import alert_summary, namespace_facts, ticker_summary, write_report
from sentimon.settings import Settings
from sentimon.store.client import connect
from sentimon.version import __version__

log = logging.getLogger(__name__)

_META_EVERY_S = 1.0


@dataclass
class ReplaySpec:
    """What to replay, where to, and how."""

    namespace: str
    span: TimeRange = field(default_factory=TimeRange)
    topics: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    speed: float | None = None
    slack_ms: int = 3_600_000
    scan_all: bool = False
    rules: Path | None = None
    model: str | None = None
    kind: str | None = None
    replace: bool = False
    report_dir: Path | None = None
    prices: Path | None = None
    market_proxy: str | None = None
    progress: bool = True
    span_ms: int = 300_000
    #: write the alert outbox (None: ``settings.replay_outbox``, off by default)
    outbox: bool | None = None

    @property
    def source(self) -> str:
        return "files" if self.files else "kafka"


def run_replay(
    settings: Settings,
    spec: ReplaySpec,
    *,
    scorer: Scorer | None = None,
    client: redis.Redis | None = None,
) -> dict[str, Any]:
    """Run the replay; returns its summary (also stored in the namespace's meta)."""
    namespaces.refuse_live(spec.namespace, settings.namespace)
    rules_info = _rules_info(spec.rules or settings.alert_rules)
    client = client or connect(settings)
    _claim_namespace(client, spec)
    source = _make_source(settings, spec)
    job = _job_settings(settings, spec, source)
    namespaces.write_meta(client, spec.namespace, _start_meta(spec, job, rules_info))
    started_ms = int(time.time() * 1000)
    try:
        stats, letters, model_id = _execute(job, spec, source, client, scorer)
    except BaseException as exc:
        error = str(exc)[:500] or type(exc).__name__
        namespaces.write_meta(client, spec.namespace, {"status": "failed", "error": error})
        raise
    run = _run_summary(spec, job, source, stats, letters, rules_info, started_ms)
    run["model"] = model_id
    for warning in run["warnings"]:
        log.warning("replay %s: %s", spec.namespace, warning)
    if spec.report_dir is not None:
        summary = write_report(
            client, spec.namespace, spec.report_dir, run,
            prices=spec.prices, market_proxy=spec.market_proxy,
        )  # fmt: skip
    else:
        alert_log, rows = namespace_facts(client, spec.namespace)
        summary = {**run, "tickers": ticker_summary(rows), "alerts": alert_summary(alert_log)}
    namespaces.write_meta(
        client, spec.namespace,
        {"status": "done", "finished_ms": int(time.time() * 1000), "summary": summary},
    )  # fmt: skip
    return summary


def _claim_namespace(client: redis.Redis, spec: ReplaySpec) -> None:
    if not namespaces.exists(client, spec.namespace):
        return
    if not spec.replace:
        short = spec.namespace.removeprefix(namespaces.PREFIX)
        raise ConfigError(
            f"namespace {spec.namespace!r} already holds data; clear it first "
            f"(`sentimon replay clear {short}`), pass --replace, or choose another --namespace"
        )
    namespaces.clear(client, spec.namespace)


def _make_source(settings: Settings, spec: ReplaySpec) -> KafkaReplay | FileReplay:
    if spec.files:
        return FileReplay(spec.files, spec.span)
    from kafka.errors import KafkaError  # noqa: PLC0415 (heavy: loaded only when used)

    try:
        return KafkaReplay(
            settings, spec.topics, spec.span, slack_ms=spec.slack_ms, scan_all=spec.scan_all
        )
    except KafkaError as exc:
        raise ReplayError(
            f"cannot reach Kafka at {settings.kafka_bootstrap} ({exc}); is the broker up? "
            "(`sentimon stack status`, SENTIMON_KAFKA_BOOTSTRAP)"
        ) from exc


def _job_settings(
    settings: Settings, spec: ReplaySpec, source: KafkaReplay | FileReplay
) -> Settings:
    topics = list(source.topics)
    kinds = {t: spec.kind or settings.kind_of(t) for t in topics}
    update: dict[str, Any] = {
        "topics": topics,
        "topic_kinds": kinds,
        "namespace": spec.namespace,
        "webhook_urls": [],
        "alerts_outbox": settings.replay_outbox if spec.outbox is None else spec.outbox,
    }
    if spec.rules is not None:
        update["alert_rules"] = spec.rules
    if spec.model is not None:
        update["model"] = spec.model
    return settings.model_copy(update=update)


def _execute(
    job: Settings,
    spec: ReplaySpec,
    source: KafkaReplay | FileReplay,
    client: redis.Redis,
    scorer: Scorer | None,
) -> tuple[RunStats, CollectingDeadLetters, str]:
    if job.alert_rules is not None:
        load_rules(
            job.alert_rules, exchange=job.exchange
        )  # fail before loading a model, with file/line/field
    if scorer is None:
        scorer = load_scorer(job)
    letters = CollectingDeadLetters()
    processor = build_processor(
        job,
        scorer,
        client=client,
        namespace=spec.namespace,
        dead_letters=letters,
        event_time=EventTimePolicy.between(spec.span.from_ms, spec.span.to_ms),
    )
    progress = _progress_bar(spec)
    try:
        source.plan()
        driver = Driver(
            processor,
            max_batch=job.max_batch,
            span_ms=spec.span_ms,
            pacer=EventPacer(spec.speed),
            progress=progress,
            on_batch=_meta_updater(client, spec.namespace),
        )
        stats = driver.run(source)
    finally:
        source.close()
        if progress is not None:
            progress.close()
    return stats, letters, scorer.model_id


def _progress_bar(spec: ReplaySpec) -> Any:
    if not spec.progress:
        return None

    return tqdm(total=None, unit="msg", file=sys.stderr, desc=f"replay {spec.namespace}")


def _meta_updater(client: redis.Redis, namespace: str) -> Any:
    last = [0.0]

    def update(stats: RunStats) -> None:
        now = time.monotonic()
        if now - last[0] < _META_EVERY_S:
            return
        last[0] = now
        fields = {"progress_event_ms": stats.last_event_ms, "progress_scored": stats.scored}
        try:
            namespaces.write_meta(client, namespace, fields)
        except redis.RedisError:
            log.debug("progress not recorded (Redis unavailable)")

    return update


def _rules_info(path: Path | None) -> dict[str, Any]:
    if path is None:
        text = default_rules_text().encode("utf-8")
        return {"file": "<default>", "sha256": hashlib.sha256(text).hexdigest()}
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"alert rules file {path} does not exist")
    return {"file": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}


def _start_meta(spec: ReplaySpec, job: Settings, rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "backtest",
        "source": spec.source,
        "status": "running",
        "created_ms": int(time.time() * 1000),
        "range_from_ms": spec.span.from_ms,
        "range_to_ms": spec.span.to_ms,
        "topics": job.topics,
        "files": [str(p) for p in spec.files] or None,
        "speed": "fast" if spec.speed is None else spec.speed,
        "model_ref": job.model,
        "rules_file": rules.get("file"),
        "rules_sha256": rules.get("sha256"),
    }


def _run_summary(
    spec: ReplaySpec,
    job: Settings,
    source: KafkaReplay | FileReplay,
    stats: RunStats,
    letters: CollectingDeadLetters,
    rules: dict[str, Any],
    started_ms: int,
) -> dict[str, Any]:
    counters = source.counters.as_dict()
    seconds = max(stats.seconds, 1e-9)
    reasons = Counter(letter.reason for letter in letters.letters)
    run = stats.as_dict()
    return {
        "namespace": spec.namespace,
        "source": spec.source,
        "topics": job.topics,
        "files": [str(p) for p in spec.files],
        "range": spec.span.as_dict(),
        "slack_ms": spec.slack_ms if spec.source == "kafka" else None,
        "scan_all": spec.scan_all,
        "speed": "fast" if spec.speed is None else spec.speed,
        "messages": {
            **counters,
            **{
                k: run[k]
                for k in ("fed", "scored", "dlq", "duplicates", "already_applied", "batches")
            },
        },
        "event_time": {
            k: run[k] for k in ("first_event_ms", "last_event_ms", "first_event", "last_event")
        },
        "per_topic": run["per_topic"],
        "dlq": {"count": stats.invalid, "reasons": dict(reasons.most_common(20))},
        "partitions": source.describe(),
        "warnings": source.warnings(),
        "throughput": {
            "seconds": round(stats.seconds, 3),
            "paced_seconds": round(stats.paced_s, 3),
            "messages_per_s": round(counters["read"] / seconds, 1),
            "scored_per_s": round(stats.scored / seconds, 1),
        },
        "model": job.model,
        "rules": rules,
        "run": {
            "started_ms": started_ms,
            "finished_ms": int(time.time() * 1000),
            "sentimon": __version__,
            "host": socket.gethostname(),
            "max_batch": job.max_batch,
            "batch_span_ms": spec.span_ms,
        },
    }
