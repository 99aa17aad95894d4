"""Prometheus metrics of the long-running processes, and the ``/metrics`` + ``/healthz`` server.

The module-level metrics live in ``REGISTRY`` (with the process/platform/GC collectors) and
are what the consumer and the alert dispatcher update::

    from sentimon import metrics
    metrics.RECORDS.labels(topic).inc()
    with metrics.INFERENCE_LATENCY.time():
        ...
    handle = metrics.serve(9400, health=lambda: {"healthy": True, "lag": 0})
    ...
    handle.close()

Tests that need isolation build their own set with ``Metrics(CollectorRegistry())`` and pass
its registry to ``serve``.

``health`` returns a JSON-able dict carrying a boolean ``healthy``: ``/healthz`` answers 200
with that dict when ``healthy`` is true, 503 when it is false or missing, or when ``health``
raises. The process decides what healthy means (the consumer: batches not stalled behind
lag, Redis not unavailable for more than a few seconds) and says why in the other fields.
Never put message text or secrets in it: the endpoint is unauthenticated.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder

from sentimon.drift import LABELS
from sentimon.errors import ConfigError
from sentimon.health_window import HealthSnapshot

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
_POLL_S = 0.1  # how soon close() returns
HealthFn = Callable[[], dict[str, Any]]

_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)
_FAST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_E2E_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class Metrics:
    """Every sentimon metric, registered in one registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self._pipeline_counters()
        self._pipeline_timings()
        self._consumer_state()
        self._alert_counters()
        self._model_health()

    def _pipeline_counters(self) -> None:
        r = self.registry
        self.records = Counter(
            "sentimon_records_consumed", "Records polled from Kafka.", ["topic"], registry=r
        )
        self.scored = Counter(
            "sentimon_records_scored", "Valid records scored by the model.", ["topic"], registry=r
        )
        self.dlq = Counter(
            "sentimon_records_dlq",
            "Invalid records sent to the dead-letter topic.",
            ["topic"],
            registry=r,
        )
        self.duplicates = Counter(
            "sentimon_duplicates_skipped", "Records whose id was already counted.", registry=r
        )
        self.replayed = Counter(
            "sentimon_records_replayed_skipped",
            "Redelivered records at or below the partition's applied offset (the fence), skipped.",
            ["topic"],
            registry=r,
        )
        self.batches = Counter(
            "sentimon_batches",
            "Atomic Redis writes (one per batch, or per group of batches merged under a backlog).",
            registry=r,
        )
        self.redis_errors = Counter(
            "sentimon_redis_write_errors",
            "Failed Redis writes (batch retried, not committed).",
            registry=r,
        )

    def _pipeline_timings(self) -> None:
        r = self.registry
        self.batch_size = Histogram(
            "sentimon_batch_size", "Records per batch.", buckets=_SIZE_BUCKETS, registry=r
        )
        self.inference_latency = Histogram(
            "sentimon_inference_seconds",
            "Model inference time per batch.",
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.redis_write_latency = Histogram(
            "sentimon_redis_write_seconds",
            "Time of one atomic Redis write (one batch or a merged group).",
            buckets=_FAST_BUCKETS,
            registry=r,
        )
        self.e2e_latency = Histogram(
            "sentimon_end_to_end_seconds",
            "Event time of a record to its aggregate written in Redis.",
            buckets=_E2E_BUCKETS,
            registry=r,
        )

    def _consumer_state(self) -> None:
        r = self.registry
        self.lag_records = Gauge(
            "sentimon_consumer_lag_records",
            "Records behind the partition's high watermark.",
            ["topic", "partition"],
            registry=r,
        )
        self.lag_seconds = Gauge(
            "sentimon_consumer_lag_seconds",
            "Age of the last processed record's timestamp while records are pending (0 caught up).",
            ["topic", "partition"],
            registry=r,
        )
        self.last_batch_ts = Gauge(
            "sentimon_last_batch_timestamp_seconds",
            "Unix time of the last batch written.",
            registry=r,
        )
        self.model_info = Info("sentimon_model", "The model in use.", registry=r)
        self.redis_up = Gauge(
            "sentimon_redis_up",
            "1 while Redis answers this process's calls, 0 while it is unavailable "
            "(busy, loading, unreachable, timing out); writes are retried meanwhile.",
            registry=r,
        )
        self.redis_up.set(1)

    def _alert_counters(self) -> None:
        r = self.registry
        self.alert_deliveries = Counter(
            "sentimon_alert_deliveries", "Alerts delivered.", ["sink"], registry=r
        )
        self.alert_failures = Counter(
            "sentimon_alert_failures",
            "Alert deliveries that failed for good.",
            ["sink"],
            registry=r,
        )
        self.alert_retries = Counter(
            "sentimon_alert_retries", "Alert delivery attempts retried.", ["sink"], registry=r
        )

    def _model_health(self) -> None:
        """Gauges of the model-health window (``sentimon.health_window``); NaN: not measured
        (no reference profile, no cascade, no vocabulary)."""
        r = self.registry
        self.health_posts = Gauge(
            "sentimon_model_health_posts", "Posts in the model-health window.", registry=r
        )
        self.label_share = Gauge(
            "sentimon_model_label_share",
            "Share of each label in the window.",
            ["label"],
            registry=r,
        )
        self.health_gauges = {
            name: Gauge(f"sentimon_model_{name}", text, registry=r)
            for name, text in (
                ("mean_confidence", "Mean confidence (probability of the label) in the window."),
                ("low_confidence_share", "Share of posts below SENTIMON_LOW_CONFIDENCE."),
                ("escalation_share", "Share of posts a cascade escalated to its accurate model."),
                ("mean_chars", "Mean text length (characters) in the window."),
                ("unknown_share", "Share of WordPiece tokens that are the unknown token."),
                ("fragmented_share", "Share of words cut into 3 or more WordPiece pieces."),
            )
        }
        self.psi = Gauge(
            "sentimon_model_psi",
            "PSI of the window against the model's reference profile (0.1 moderate, 0.25 major).",
            ["feature"],
            registry=r,
        )
        self.reference = Gauge(
            "sentimon_model_reference",
            "1 when the model has a reference profile (reference.json), else 0.",
            registry=r,
        )

    # --- helpers ---------------------------------------------------------------------
    def set_model_health(self, health: HealthSnapshot) -> None:
        """Export the model-health window's figures."""
        self.health_posts.set(health.posts)
        for label, share in zip(LABELS, health.label_mix, strict=True):
            self.label_share.labels(label).set(share)
        for name, gauge in self.health_gauges.items():
            gauge.set(_or_nan(getattr(health, name)))
        self.psi.labels("label").set(_or_nan(health.psi_label))
        self.psi.labels("length").set(_or_nan(health.psi_length))
        self.reference.set(1 if health.reference is not None else 0)

    def set_model(self, model: str, backend: str = "", device: str = "") -> None:
        self.model_info.info({"model": model, "backend": backend, "device": device})

    def set_redis_up(self, up: bool) -> None:
        self.redis_up.set(1 if up else 0)

    def set_lag(self, topic: str, partition: int, records: int, seconds: float) -> None:
        self.lag_records.labels(topic, str(partition)).set(records)
        self.lag_seconds.labels(topic, str(partition)).set(seconds)

    def forget_partition(self, topic: str, partition: int) -> None:
        """Drop the lag series of a partition this process no longer owns (after a rebalance)."""
        for gauge in (self.lag_records, self.lag_seconds):
            with contextlib.suppress(KeyError):
                gauge.remove(topic, str(partition))


def _default_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


REGISTRY = _default_registry()
DEFAULT = Metrics(REGISTRY)

RECORDS = DEFAULT.records
SCORED = DEFAULT.scored
DLQ = DEFAULT.dlq
DUPLICATES = DEFAULT.duplicates
REPLAYED = DEFAULT.replayed
BATCHES = DEFAULT.batches
REDIS_WRITE_ERRORS = DEFAULT.redis_errors
BATCH_SIZE = DEFAULT.batch_size
INFERENCE_LATENCY = DEFAULT.inference_latency
REDIS_WRITE_LATENCY = DEFAULT.redis_write_latency
E2E_LATENCY = DEFAULT.e2e_latency
LAG_RECORDS = DEFAULT.lag_records
LAG_SECONDS = DEFAULT.lag_seconds
LAST_BATCH_TS = DEFAULT.last_batch_ts
MODEL_INFO = DEFAULT.model_info
REDIS_UP = DEFAULT.redis_up
ALERT_DELIVERIES = DEFAULT.alert_deliveries
ALERT_FAILURES = DEFAULT.alert_failures
ALERT_RETRIES = DEFAULT.alert_retries

set_model = DEFAULT.set_model
set_model_health = DEFAULT.set_model_health
set_lag = DEFAULT.set_lag
set_redis_up = DEFAULT.set_redis_up
forget_partition = DEFAULT.forget_partition


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


# --- the HTTP endpoint ---------------------------------------------------------------------
def _health_payload(health: HealthFn) -> tuple[int, dict[str, Any]]:
    try:
        payload = dict(health())
    except Exception as exc:  # a failing probe is an unhealthy process, not a crash
        log.warning("health check raised %s", type(exc).__name__)
        return HTTPStatus.SERVICE_UNAVAILABLE, {"healthy": False, "error": type(exc).__name__}
    ok = payload.get("healthy") is True
    return (HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE), payload


def _handler(registry: CollectorRegistry, health: HealthFn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "sentimon-metrics"

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
                self._send(HTTPStatus.OK, encoder(registry), content_type)
            elif path == "/healthz":
                status, payload = _health_payload(health)
                body = json.dumps(payload, default=str, sort_keys=True).encode()
                self._send(status, body, "application/json")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"try /metrics or /healthz\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("metrics http: " + format, *args)

    return Handler


class MetricsServer:
    """A running ``/metrics`` + ``/healthz`` server; ``close()`` stops it."""

    def __init__(self, httpd: ThreadingHTTPServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.host = str(httpd.server_address[0])
        self.port = int(httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def serve(
    port: int,
    health: HealthFn,
    host: str = DEFAULT_HOST,
    registry: CollectorRegistry | None = None,
) -> MetricsServer:
    """Serve ``/metrics`` and ``/healthz`` on ``host:port`` (port 0: any free port) from a
    daemon thread. Binds 127.0.0.1 unless told otherwise (``0.0.0.0`` in containers)."""
    server_cls = _Server6 if ":" in host else _Server
    try:
        httpd = server_cls((host, port), _handler(registry or REGISTRY, health))
    except OSError as exc:
        raise ConfigError(
            f"cannot serve metrics on {host}:{port} ({exc.strerror or exc}): "
            "choose another --metrics-port"
        ) from exc
    thread = threading.Thread(
        target=httpd.serve_forever, args=(_POLL_S,), name=f"metrics:{port}", daemon=True
    )
    thread.start()
    handle = MetricsServer(httpd, thread)
    log.info("metrics on %s/metrics, health on %s/healthz", handle.url, handle.url)
    return handle
