"""sentimon's alerts through a real Prometheus Alertmanager: arrival, grouping, silences,
re-sending while firing (across a dispatcher restart) and resolution.

The path is the real one: posts through the in-process pipeline (real Redis, the
``ticker-drop`` rule) -> outbox -> ``Dispatcher`` -> ``AlertmanagerSink`` -> the
Alertmanager binary -> its webhook notification to the test's receiver.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from sentimon.alerts.backoff import Backoff
from sentimon.alerts.dispatch import Dispatcher
from sentimon.alerts.outbox import Outbox
from sentimon.alerts.receivers import build_sinks
from sentimon.keys import Keys
from sentimon.metrics import Metrics
from sentimon.stack.services import free_port
from sentimon.testing import WebhookReceiver
from tests.integration.alerting import DROP_RULE, alert_env, feed, history, posts
from tests.integration.alertmanager_server import AlertmanagerServer

pytestmark = pytest.mark.integration

RESEND_S = 1.0  # the smallest allowed: endsAt 4 s ahead, so an alert not re-sent ends fast


@pytest.fixture
def alertmanager(tmp_path: Path, receiver: WebhookReceiver) -> Iterator[AlertmanagerServer]:
    """The real Alertmanager, notifying ``receiver``, grouping by alertname + namespace."""
    workdir = tmp_path / "am"
    workdir.mkdir()
    server = AlertmanagerServer(workdir, receiver.url).start()
    yield server
    server.stop()


def am_env(stack: Any, tmp_path: Path, *urls: str) -> Any:
    return alert_env(
        stack, tmp_path, DROP_RULE, alertmanager_urls=list(urls), alertmanager_resend_s=RESEND_S
    )


def burst(tickers: tuple[str, ...]) -> list[dict[str, Any]]:
    """Calm hour, then a 10-minute negative burst on each ticker: one firing alert each."""
    out: list[dict[str, Any]] = []
    for t in tickers:
        out += posts(t, range(0, 60), 3, "mixed", "a") + posts(t, range(60, 70), 8, "[neg]", "b")
    return out


def calm(tickers: tuple[str, ...]) -> list[dict[str, Any]]:
    """40 calm minutes after the burst: the alerts resolve."""
    return [p for t in tickers for p in posts(t, range(70, 110), 3, "mixed", "c")]


@contextmanager
def dispatching(env: Any, name: str = "am-test") -> Iterator[Dispatcher]:
    """The real dispatcher (settings' sinks, Redis outbox) running in a thread."""
    s = env.settings
    outbox = Outbox(env.redis(), Keys(s.namespace), name)
    backoff = Backoff(s.dispatch_backoff_s, s.dispatch_backoff_max_s, s.dispatch_max_attempts)
    dispatcher = Dispatcher(outbox, build_sinks(s), backoff, registry=Metrics(CollectorRegistry()))
    stop = threading.Event()
    thread = threading.Thread(target=dispatcher.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield dispatcher
    finally:
        stop.set()
        thread.join(10)


def wait_for(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def notifications(receiver: WebhookReceiver) -> list[dict[str, Any]]:
    return receiver.payloads()


def test_alerts_arrive_group_keep_firing_across_a_restart_and_resolve(
    stack: Any, tmp_path: Path, receiver: WebhookReceiver, alertmanager: AlertmanagerServer
) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # an HA peer that is down: one accepting is enough
    env = am_env(stack, tmp_path, down, alertmanager.url)
    ns = env.settings.namespace
    feed(env, burst(("ACME", "STDY")))
    assert [e["status"] for e in history(env)] == ["firing", "firing"]

    with dispatching(env):
        active = wait_for(lambda: len(alertmanager.alerts(namespace=ns)) == 2 and
                          alertmanager.alerts(namespace=ns), "two alerts in Alertmanager")  # fmt: skip
        # group_by alertname + namespace: one group, and a notification listing both (the
        # first may hold one: startsAt is the opening's event time, long past, so the
        # group does not wait group_wait before its first notification)
        both = wait_for(
            lambda: [n for n in notifications(receiver) if len(n["alerts"]) == 2],
            "a notification of both alerts",
        )[0]
    by_ticker = {a["labels"]["ticker"]: a for a in active}
    assert sorted(by_ticker) == ["ACME", "STDY"]
    acme = by_ticker["ACME"]
    assert acme["labels"] | {"model": "-"} == {
        "alertname": "ticker-drop", "severity": "critical", "kind": "sentiment_drop",
        "scope": "ticker", "entity": "ticker:ACME", "ticker": "ACME", "namespace": ns,
        "model": "-",
    }  # fmt: skip
    assert acme["annotations"]["summary"].startswith("FIRING [critical] ticker:ACME")
    assert acme["annotations"]["top_posts"].startswith("-")  # the most negative post first
    assert acme["status"]["state"] == "active"
    assert both["status"] == "firing"
    assert sorted(a["labels"]["ticker"] for a in both["alerts"]) == ["ACME", "STDY"]
    assert both["groupLabels"] == {"alertname": "ticker-drop", "namespace": ns}
    assert len({n["groupKey"] for n in notifications(receiver)}) == 1

    # The dispatcher is stopped: without a re-send the alerts end at endsAt (4 s); a new
    # dispatcher picks up the re-send state from Redis and keeps them firing.
    with dispatching(env, "am-test-2"):
        time.sleep(4 * RESEND_S + 2)
        still = alertmanager.alerts(namespace=ns)
        assert len(still) == 2, still
        assert min(a["endsAt"] for a in still) > acme["endsAt"]  # moved on by re-sends

        feed(env, calm(("ACME", "STDY")))
        resolved = wait_for(
            lambda: [n for n in notifications(receiver) if n["status"] == "resolved"],
            "the resolved notification",
        )
        assert alertmanager.alerts(namespace=ns) == []
    ends = {a["labels"]["ticker"]: a["endsAt"] for n in resolved for a in n["alerts"]}
    events = {e["entity"]: e for e in history(env) if e["status"] == "resolved"}
    assert sorted(ends) == ["ACME", "STDY"]
    resolved_ms = events["ticker:ACME"]["payload"]["resolved_ms"]
    assert ends["ACME"].startswith(
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(resolved_ms / 1000))
    )  # endsAt is sentimon's resolution time
    state = env.redis().hgetall(Keys(ns).alert_resend(build_sinks(env.settings)[-1].name))
    assert all("resolved_ms" in json.loads(v) for v in state.values()) and len(state) == 2


def test_an_alertmanager_silence_suppresses_the_notification(
    stack: Any, tmp_path: Path, receiver: WebhookReceiver, alertmanager: AlertmanagerServer
) -> None:
    env = am_env(stack, tmp_path, alertmanager.url)
    ns = env.settings.namespace
    silence = alertmanager.silence(ticker="ACME", namespace=ns)
    feed(env, burst(("ACME",)))
    with dispatching(env):
        alert = wait_for(lambda: alertmanager.alerts(namespace=ns), "the alert")[0]
        time.sleep(3)  # past group_wait: a notification would have gone out
    assert alert["status"]["state"] == "suppressed"
    assert alert["status"]["silencedBy"] == [silence]
    assert receiver.requests == []
