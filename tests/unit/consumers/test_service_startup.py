"""The consume service: a stop during start-up retries returns 0 at once (with /healthz
saying why it is not up yet), without a signal handler installed, and worker threads
stuck past the grace period do not keep the process alive."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from consumers import service
from sentimon.settings import load_settings
from sentimon.stack.services import free_port


class NoScorer:
    model_id = "none@0"


def _healthz(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_a_stop_while_redis_is_retried_at_start_up_returns_0(monkeypatch) -> None:
    monkeypatch.setattr(service, "UNHEALTHY_AFTER_S", 0.3)
    settings = load_settings(
        redis_url=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens: refused
        kafka_bootstrap=f"127.0.0.1:{free_port()}",  # never reached
        alerts_enabled=False,
    )
    port = free_port()
    seen: list[tuple[int, dict[str, Any]]] = []
    stop = threading.Event()
    handler = signal.getsignal(signal.SIGTERM)

    def probe_then_stop() -> None:
        time.sleep(1.0)
        seen.append(_healthz(port))
        stop.set()

    threading.Thread(target=probe_then_stop, daemon=True).start()
    started = time.monotonic()
    code = service.run_consumer(settings, scorer=NoScorer(), metrics_port=port, stop=stop)  # type: ignore[arg-type]
    assert code == 0
    assert signal.getsignal(signal.SIGTERM) is handler  # the service installed none
    assert time.monotonic() - started < 3.0
    status, body = seen[0]
    assert status == 503 and body["starting"] is True
    assert body["redis"]["ok"] is False and "ConnectionError" in body["redis"]["error"]


def test_stuck_workers_do_not_hold_the_process(monkeypatch) -> None:
    exits: list[int] = []
    monkeypatch.setattr(service.os, "_exit", exits.append)
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="sentimon-write_0")
    stuck.start()
    try:
        started = time.monotonic()
        service.exit_when_workers_stuck(0, within_s=0.3)
        assert exits == [0]
        assert 0.25 < time.monotonic() - started < 1.0
    finally:
        release.set()
        stuck.join()
    service.exit_when_workers_stuck(0, within_s=0.3)
    assert exits == [0]  # nothing stuck: returns
