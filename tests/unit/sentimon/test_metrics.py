"""The metrics registry and the /metrics + /healthz server, scraped over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from sentimon import metrics
from sentimon.errors import ConfigError
from sentimon.metrics import Metrics, MetricsServer, serve


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


class Probe:
    """A health callable whose answer the test controls."""

    def __init__(self) -> None:
        self.payload: dict[str, Any] = {"healthy": True, "lag": 0}
        self.error: Exception | None = None

    def __call__(self) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        return self.payload


@pytest.fixture
def fresh() -> Metrics:
    return Metrics(CollectorRegistry())


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def server(fresh: Metrics, probe: Probe) -> Iterator[MetricsServer]:
    handle = serve(0, probe, registry=fresh.registry)  # port 0: a free port
    yield handle
    handle.close()


def test_binds_loopback_by_default(server: MetricsServer) -> None:
    assert server.host == "127.0.0.1"
    assert server.port > 0
    assert server.url == f"http://127.0.0.1:{server.port}"


def test_metrics_endpoint_exposes_updates(server: MetricsServer, fresh: Metrics) -> None:
    fresh.records.labels("news").inc(3)
    fresh.dlq.labels("social").inc()
    fresh.batch_size.observe(64)
    fresh.inference_latency.observe(0.02)
    fresh.e2e_latency.observe(1.5)
    fresh.set_lag("news", 2, records=17, seconds=4.5)
    fresh.set_model("finbert-tiny", backend="onnx", device="cpu")
    fresh.alert_retries.labels("webhook").inc(2)
    fresh.set_redis_up(False)

    status, ctype, body = _get(server.url + "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain")
    assert 'sentimon_records_consumed_total{topic="news"} 3.0' in body
    assert 'sentimon_records_dlq_total{topic="social"} 1.0' in body
    assert 'sentimon_batch_size_bucket{le="64.0"} 1.0' in body
    assert "sentimon_inference_seconds_count 1.0" in body
    assert 'sentimon_end_to_end_seconds_bucket{le="2.5"} 1.0' in body
    assert 'sentimon_consumer_lag_records{partition="2",topic="news"} 17.0' in body
    assert 'sentimon_consumer_lag_seconds{partition="2",topic="news"} 4.5' in body
    assert 'sentimon_model_info{backend="onnx",device="cpu",model="finbert-tiny"} 1.0' in body
    assert 'sentimon_alert_retries_total{sink="webhook"} 2.0' in body
    assert "sentimon_redis_up 0.0" in body


def test_forget_partition_drops_its_lag_series(server: MetricsServer, fresh: Metrics) -> None:
    fresh.set_lag("news", 0, 5, 1.0)
    fresh.set_lag("news", 1, 6, 1.0)
    fresh.forget_partition("news", 0)
    fresh.forget_partition("news", 9)  # never owned: no error
    body = _get(server.url + "/metrics")[2]
    assert 'partition="0"' not in body
    assert 'sentimon_consumer_lag_records{partition="1",topic="news"} 6.0' in body


def test_openmetrics_on_request(server: MetricsServer, fresh: Metrics) -> None:
    fresh.batches.inc()
    request = urllib.request.Request(
        server.url + "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    with urllib.request.urlopen(request, timeout=5) as resp:
        assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
        assert resp.read().decode().rstrip().endswith("# EOF")


def test_healthz_200_with_json_when_healthy(server: MetricsServer) -> None:
    status, ctype, body = _get(server.url + "/healthz")
    assert (status, ctype) == (200, "application/json")
    assert json.loads(body) == {"healthy": True, "lag": 0}


@pytest.mark.parametrize(
    "payload", [{"healthy": False, "reason": "redis down"}, {"lag": 3}, {"healthy": "yes"}]
)
def test_healthz_503_unless_explicitly_healthy(
    server: MetricsServer, probe: Probe, payload: dict[str, Any]
) -> None:
    probe.payload = payload
    status, _, body = _get(server.url + "/healthz")
    assert status == 503
    assert json.loads(body) == payload


def test_healthz_503_when_the_probe_raises(server: MetricsServer, probe: Probe) -> None:
    probe.error = RuntimeError("secret detail that must not leak")
    status, _, body = _get(server.url + "/healthz")
    assert status == 503
    assert json.loads(body) == {"healthy": False, "error": "RuntimeError"}


def test_unknown_path_is_404(server: MetricsServer) -> None:
    assert _get(server.url + "/nope")[0] == 404


def test_close_stops_serving(fresh: Metrics, probe: Probe) -> None:
    handle = serve(0, probe, registry=fresh.registry)
    url = handle.url + "/healthz"
    assert _get(url)[0] == 200
    handle.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=2)


def test_port_in_use_is_a_config_error(server: MetricsServer, fresh: Metrics) -> None:
    with pytest.raises(ConfigError, match="metrics-port"):
        serve(server.port, lambda: {"healthy": True}, registry=fresh.registry)


def test_module_level_metrics_use_the_module_registry() -> None:
    before = metrics.REGISTRY.get_sample_value("sentimon_records_scored_total", {"topic": "t-x"})
    metrics.SCORED.labels("t-x").inc(2)
    after = metrics.REGISTRY.get_sample_value("sentimon_records_scored_total", {"topic": "t-x"})
    assert (after or 0) - (before or 0) == 2
    assert metrics.REGISTRY.get_sample_value("process_cpu_seconds_total") is not None


def test_fresh_registry_is_isolated(fresh: Metrics) -> None:
    fresh.scored.labels("iso").inc(5)
    assert fresh.registry.get_sample_value("sentimon_records_scored_total", {"topic": "iso"}) == 5
    assert (
        metrics.REGISTRY.get_sample_value("sentimon_records_scored_total", {"topic": "iso"}) is None
    )


def test_module_server_serves_the_module_registry() -> None:
    metrics.DUPLICATES.inc()
    with serve(0, lambda: {"healthy": True}) as handle:
        body = _get(handle.url + "/metrics")[2]
    assert "sentimon_duplicates_skipped_total" in body
    assert "process_resident_memory_bytes" in body
