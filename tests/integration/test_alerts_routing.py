"""Routing end to end: the real consumer writes notices with labels, the real dispatcher
routes them through a rules file's ``[route]`` into groups kept in Redis and a real local
HTTP receiver gets one notification per group; and a backtest writes no outbox unless
asked.

Alert mechanics, not the model: posts are scored by ``MarkerScorer`` (``sentimon.testing``).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.integration.alerting import (
    DROP_RULE,
    SECRET,
    alert_env,
    consume,
    history,
    posts,
    publish,
)

pytestmark = pytest.mark.integration

ROUTED = (
    DROP_RULE
    + """
[rule.labels]
team = "rates"

[rule.annotations]
runbook = "https://wiki.example/drop"

[route]
receiver = "fallback"
group_by = ["alertname"]
group_wait = "0s"

[[route.routes]]
matchers = ["team =~ rates|fx", "severity = critical"]
receiver = "desk"
group_by = ["alertname", "team"]

[[receiver]]
name = "fallback"
webhook_urls = ["http://127.0.0.1:9/never"]

[[receiver]]
name = "desk"
webhook_urls = ["RECEIVER"]
"""
)


def two_tickers(minutes: range, burst: bool, tag: str) -> list[dict[str, Any]]:
    """ACME and BETA over ``minutes``: a negative burst (8 a minute) or calm (3)."""
    per, marker = (8, "[neg]") if burst else (3, "mixed")
    return [p for t in ("ACME", "BETA") for p in posts(t, minutes, per, marker, tag)]


def routed_dispatch(env: Any) -> Any:
    """The dispatcher as ``sentimon alerts dispatch --once`` builds it for a ``[route]``."""
    from prometheus_client import CollectorRegistry

    from sentimon.alerts.backoff import Backoff
    from sentimon.alerts.dispatch import Dispatcher
    from sentimon.alerts.group_store import GroupStore
    from sentimon.alerts.outbox import Outbox
    from sentimon.alerts.receiver_sinks import build_receivers
    from sentimon.alerts.router import Router
    from sentimon.alerts.rulefile import load_rules
    from sentimon.keys import Keys
    from sentimon.metrics import Metrics

    s = env.settings
    keys = Keys(s.namespace)
    rules = load_rules(s.alert_rules)
    routed = build_receivers(rules.routing, s)
    store = GroupStore(env.redis(), keys)
    dispatcher = Dispatcher(
        Outbox(env.redis(), keys, "d1"),
        routed.sinks,
        Backoff(0.1, 0.5, 3),
        registry=Metrics(CollectorRegistry()),
        router=Router(rules.routing, store, routed.names),
    )
    dispatcher.run(threading.Event(), once=True)
    return store


def test_one_grouped_notification_per_group(stack: Any, tmp_path: Path, receiver: Any) -> None:
    env = alert_env(stack, tmp_path, ROUTED.replace("RECEIVER", receiver.url))
    publish(env, two_tickers(range(0, 60), False, "a") + two_tickers(range(60, 70), True, "b"))
    consume(env)
    fired = [e for e in history(env) if e["status"] == "firing"]
    assert sorted(e["entity"] for e in fired) == ["ticker:ACME", "ticker:BETA"]
    assert fired[0]["payload"]["labels"]["team"] == "rates"
    assert fired[0]["payload"]["annotations"] == {"runbook": "https://wiki.example/drop"}

    store = routed_dispatch(env)
    [note] = receiver.wait_for(1)
    headers = receiver.requests[0][0]
    assert note["type"] == "group" and note["receiver"] == "desk" and note["status"] == "firing"
    assert note["group_labels"] == {"alertname": "ticker-drop", "team": "rates"}
    assert sorted(a["entity"] for a in note["alerts"]) == ["ticker:ACME", "ticker:BETA"]
    assert note["common_labels"]["team"] == "rates" and "ticker" not in note["common_labels"]
    assert headers["Idempotency-Key"] == note["event_id"] == f"{note['group_key']}.0"
    assert headers["X-Sentimon-Signature"].startswith("sha256=") and SECRET
    [group] = store.groups()
    assert group.sent_ms is not None and sorted(group.alerts) == sorted(group.sent)

    # calm again: both resolve; one notification with both resolved, then the group is gone
    publish(env, two_tickers(range(70, 110), False, "c"))
    consume(env)
    routed_dispatch(env)
    payloads = receiver.wait_for(2)
    assert len(payloads) == 2
    resolved = payloads[1]
    assert resolved["status"] == "resolved" and resolved["event_id"].endswith(".1")
    assert sorted((a["entity"], a["status"]) for a in resolved["alerts"]) == [
        ("ticker:ACME", "resolved"), ("ticker:BETA", "resolved"),
    ]  # fmt: skip
    assert store.groups() == []
    from sentimon.keys import Keys

    assert env.redis().xlen(Keys(env.settings.namespace).alert_outbox) == 0


def test_a_backtest_writes_no_outbox_unless_asked(stack: Any, tmp_path: Path) -> None:
    from sentimon.keys import Keys
    from sentimon.replay.api import run_backtest
    from sentimon.testing import MarkerScorer

    env = alert_env(stack, tmp_path, DROP_RULE)
    feed = tmp_path / "feed.jsonl"
    events = two_tickers(range(0, 60), False, "a") + two_tickers(range(60, 70), True, "b")
    feed.write_text("".join(json.dumps(e) + "\n" for e in events))
    outboxes = {}
    for name, asked in (("nobox", None), ("withbox", True)):
        namespace = f"{name}-{env.uid}"
        summary = run_backtest([feed], namespace=namespace, settings=env.settings,
                               scorer=MarkerScorer(), kind="news", outbox=asked)  # fmt: skip
        keys = Keys(summary["namespace"])
        assert env.redis().xlen(keys.alerts) >= 2  # the alerts are recorded either way
        outboxes[name] = env.redis().xlen(keys.alert_outbox)
    assert outboxes == {"nobox": 0, "withbox": 2}
