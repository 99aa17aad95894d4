"""Redis trouble is visible: /healthz (503 once it lasts), the ``sentimon_redis_up`` gauge,
the health snapshot `status` reads, and `status` itself when Redis is down."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from types import SimpleNamespace
from typing import Any

import redis
from prometheus_client import CollectorRegistry

from consumers.observe import ConsumerObserver
from consumers.runner import LoopStats
from consumers.wiring import HealthReporter
from sentimon import metrics
from sentimon.cli.status_cmd import redis_line
from sentimon.keys import Keys
from sentimon.stack.services import free_port
from sentimon.store.client import RedisState
from sentimon.testing import ManualClock


def fake_loop(state: RedisState) -> Any:
    return SimpleNamespace(redis=state, stats=LoopStats())


def observer_of(state: RedisState) -> ConsumerObserver:
    source = SimpleNamespace(lag=lambda: {}, assignment=lambda: [("news", 0)])
    return ConsumerObserver(fake_loop(state), source, "fake@0")  # type: ignore[arg-type]


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_healthz_shows_redis_and_turns_503_once_the_outage_lasts() -> None:
    clock = ManualClock(50.0)
    state = RedisState(clock=clock, wall=lambda: 1_700_000_000.0)
    observer = observer_of(state)
    with metrics.serve(0, observer.health, registry=CollectorRegistry()) as server:
        status, body = _get(server.url + "/healthz")
        assert status == 200 and body["redis"] == {"ok": True}
        state.failed(redis.ConnectionError("Connection refused"), action="retrying")
        clock.now += 2
        status, body = _get(server.url + "/healthz")
        assert status == 200, body  # a blip does not flap the probe
        assert body["redis"]["ok"] is False
        assert metrics.REGISTRY.get_sample_value("sentimon_redis_up") == 0
        clock.now += 4
        status, body = _get(server.url + "/healthz")
        assert status == 503 and body["healthy"] is False
        assert body["redis"]["error"] == "ConnectionError: Connection refused"
        assert body["redis"]["since"] == 1_700_000_000.0
        state.recovered()
        status, body = _get(server.url + "/healthz")
        assert status == 200 and body["redis"]["ok"] is True
        assert body["redis"]["last_outage"]["retries"] == 1
    observer.tick()
    assert metrics.REGISTRY.get_sample_value("sentimon_redis_up") == 1


def test_gauge_on_a_fresh_registry() -> None:
    fresh = metrics.Metrics(CollectorRegistry())
    assert fresh.registry.get_sample_value("sentimon_redis_up") == 1
    fresh.set_redis_up(False)
    assert fresh.registry.get_sample_value("sentimon_redis_up") == 0


class FlakyRedis:
    def __init__(self) -> None:
        self.error: Exception | None = None
        self.written: list[dict[str, Any]] = []

    def hset(self, key: str, field: str, value: str) -> None:
        if self.error is not None:
            raise self.error
        self.written.append(json.loads(value))


def test_health_snapshot_probes_redis_and_reports_the_outage_after_it() -> None:
    state = RedisState()
    client = FlakyRedis()
    reporter = HealthReporter(client, Keys("t"), observer_of(state))  # type: ignore[arg-type]
    client.error = redis.ConnectionError("Connection refused")
    reporter.tick()
    assert not state.ok and client.written == []
    reporter.tick(force=True)  # at stop, with Redis down: no try (it could block)
    assert client.written == []
    client.error = None
    reporter._next = 0.0
    reporter.tick()
    assert state.ok
    assert client.written[-1]["redis"]["ok"] is True
    assert client.written[-1]["redis"]["last_outage"]["error"].startswith("ConnectionError")


def test_status_line_of_a_consumer() -> None:
    assert redis_line({}) == "redis: unknown"
    assert redis_line({"redis": {"ok": True}}) == "redis: ok"
    down = {"ok": False, "error": "ResponseError: BUSY", "since": 0.0, "retries": 3}
    assert redis_line({"redis": down}).startswith("redis: UNAVAILABLE since ")
    after = {"ok": True, "last_outage": {"error": "E", "since": 0.0, "until": 12.5, "seconds": 12.5, "retries": 4}}  # fmt: skip
    line = redis_line({"redis": after})
    assert line.startswith("redis: ok; last outage ") and "(12.5s, 4 retries, E)" in line


def test_status_with_redis_down_fails_with_a_message(monkeypatch, capsys) -> None:
    from sentimon.cli import main as cli
    from sentimon.settings import get_settings

    monkeypatch.setattr(cli, "configure_logging", lambda *a, **k: None)  # keep pytest's
    main = cli.main
    port = free_port()  # nothing listens there
    monkeypatch.setenv("SENTIMON_REDIS_URL", f"redis://:secret-pw@127.0.0.1:{port}/0")
    get_settings.cache_clear()
    try:
        assert main(["status"]) == 1
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert err.startswith(f"error: cannot read status from Redis at 127.0.0.1:{port} ")
    assert "Traceback" not in err and "secret-pw" not in err
