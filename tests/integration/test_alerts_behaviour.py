"""Repeat, cooldown, silences and min_count, on real Redis through the real batch processor
(records fed in event-time order, as a live stream would arrive; no broker needed here).

Alert mechanics, not the model: posts are scored by ``MarkerScorer`` (``sentimon.testing``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from consumers.records import SourceRecord
from consumers.wiring import build_processor
from sentimon.testing import MarkerScorer
from tests.integration.alerting import (
    MIN,
    T0,
    NoDeadLetters,
    alert_env,
    dispatch_once,
    feed,
    history,
    posts,
)

pytestmark = pytest.mark.integration


RULES = """
[[rule]]
name = "acme-share"
scope = "ACME"
kind = "negative_share"
window = "5m"
threshold = 0.6
resolve_threshold = 0.3
min_count = {min_count}
cooldown = "{cooldown}"
repeat_interval = "{repeat}"
"""


def rules(**values: Any) -> str:
    return RULES.format(**({"min_count": 5, "cooldown": "30m", "repeat": "2h"} | values))


def statuses(env: Any) -> list[tuple[str, int, bool]]:
    return [(e["status"], (e["ts"] - T0) // MIN, e["notify"]) for e in history(env)]


def test_repeat_interval_and_cooldown(stack, tmp_path):
    env = alert_env(stack, tmp_path, rules(cooldown="30m", repeat="10m"))
    negative = lambda a, b, tag: posts("ACME", range(a, b), 2, "[neg]", tag)  # noqa: E731
    calm = lambda a, b, tag: posts("ACME", range(a, b), 2, "", tag)  # noqa: E731
    feed(
        env,
        negative(0, 25, "b1")
        + calm(25, 35, "c1")
        + negative(35, 40, "b2")
        + calm(40, 70, "c2")
        + negative(70, 75, "b3")
        + calm(75, 85, "c3"),
    )
    events = history(env)
    ids = [e["id"] for e in events]
    got = [(s, m) for s, m, _ in statuses(env)]
    # burst 1: opens at once (min_count 5 reached in minute 2), repeats every 10 min, resolves
    # once the share falls below 0.3; burst 2 at 35-40 is inside the 30 min cooldown: silent;
    # burst 3 at 70 is after it: a new alert with a new id.
    assert [s for s, _ in got] == ["firing", "firing", "firing", "resolved", "firing", "resolved"]
    assert got[0][1] == 2 and got[1][1] == 12 and got[2][1] == 22
    assert 25 <= got[3][1] <= 29 and 70 <= got[4][1] <= 73
    assert len(set(ids[:4])) == 1 and ids[4] != ids[0] and ids[4] == ids[5]
    assert [e["event"].rsplit(".", 1)[1] for e in events] == ["0", "1", "2", "3", "0", "1"]


def test_min_count(stack, tmp_path):
    env = alert_env(stack, tmp_path, rules(min_count=6))
    # 5 negative posts in every 5-minute window: one short of min_count
    feed(env, posts("ACME", range(0, 30), 1, "[neg]", "few"))
    assert history(env) == []
    feed(env, posts("ACME", range(30, 34), 2, "[neg]", "more"))  # now 6+ in the window
    assert [s for s, _, _ in statuses(env)] == ["firing"]


def test_silence_mutes_delivery_and_unsilence_restores_it(stack, tmp_path, receiver):
    env = alert_env(stack, tmp_path, rules(), webhook_urls=[receiver.url])
    out = env.cli(
        "alerts",
        "silence",
        "--match",
        "ticker=acme",
        "--for",
        "2h",
        "--reason",
        "earnings call",
        "--json",
    ).stdout
    silence = json.loads(out)
    assert silence["matchers"] == ["ticker=ACME"] and silence["reason"] == "earnings call"
    feed(env, posts("ACME", range(0, 6), 2, "[neg]", "b1"))
    (event,) = history(env)
    assert event["status"] == "firing" and not event["notify"]
    assert event["muted"] == f"silence:{silence['id']}"
    listed = json.loads(env.cli("alerts", "list", "--json").stdout)
    assert [s["id"] for s in listed["silences"] if s["active"]] == [silence["id"]]
    assert [a["entity"] for a in listed["open"]] == ["ticker:ACME"]
    dispatch_once(env)
    assert receiver.requests == []

    env.cli("alerts", "unsilence", silence["id"])
    feed(env, posts("ACME", range(6, 8), 2, "[neg]", "b2"))
    dispatch_once(env)
    (delivered,) = receiver.wait_for(1)
    assert delivered["status"] == "firing" and delivered["id"] == event["id"]
    listed = json.loads(env.cli("alerts", "list", "--json").stdout)
    assert not any(s["active"] for s in listed["silences"])


def test_silence_on_another_ticker_does_not_mute(stack, tmp_path):
    env = alert_env(stack, tmp_path, rules())
    env.cli("alerts", "silence", "--match", "ticker=TSLA", "--for", "1h", "--reason", "x")
    feed(env, posts("ACME", range(0, 6), 2, "[neg]", "b"))
    assert [(e["status"], e["notify"], e["muted"]) for e in history(env)] == [("firing", True, "")]


def test_inhibition_mutes_ticker_alerts_while_the_market_fires(stack, tmp_path):
    text = "inhibit = true\n" + rules().replace('scope = "ACME"', 'scope = ["ACME", "market"]')
    env = alert_env(stack, tmp_path, text)
    feed(env, posts("ACME", range(0, 6), 2, "[neg]", "b"))
    events = {e["entity"]: e for e in history(env)}
    assert events["market"]["notify"] and not events["market"]["muted"]
    assert events["ticker:ACME"]["muted"] == f"inhibited:{events['market']['id']}"
    assert not events["ticker:ACME"]["notify"]


def test_state_survives_a_new_processor(stack, tmp_path: Path):
    """Baselines and alert state live in Redis: a restarted consumer continues the alert."""
    env = alert_env(stack, tmp_path, rules(repeat="2h"))
    feed(env, posts("ACME", range(0, 6), 2, "[neg]", "b1"))
    feed(env, posts("ACME", range(6, 12), 2, "[neg]", "b2"))  # a fresh processor and hook
    assert [s for s, _, _ in statuses(env)] == ["firing"]


def test_two_consumers_racing_on_the_market_open_one_alert(stack, tmp_path):
    """Both processors evaluate `market` on every batch; the guard on the alert record makes
    the loser re-evaluate on fresh state, so the burst opens one alert, not two."""
    import threading

    text = rules().replace('scope = "ACME"', 'scope = "market"')
    env = alert_env(stack, tmp_path, text)
    messages = sorted(
        posts("ACME", range(0, 10), 4, "", "c") + posts("ACME", range(10, 20), 6, "[neg]", "b")
        + posts("ACME", range(20, 40), 4, "", "d"),
        key=lambda m: m["ts"],
    )  # fmt: skip
    halves = [[m for i, m in enumerate(messages) if i % 2 == p] for p in (0, 1)]

    def run(partition: int) -> None:
        processor = build_processor(env.settings, MarkerScorer(), dead_letters=NoDeadLetters())
        records = [SourceRecord(env.news, partition, i, 0, json.dumps(m).encode())
                   for i, m in enumerate(halves[partition])]  # fmt: skip
        for i in range(0, len(records), 3):
            processor.process(records[i : i + 3])

    threads = [threading.Thread(target=run, args=(p,)) for p in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert env.query().counters()["scored"] == len(messages)
    assert [(e["status"], e["entity"]) for e in history(env)] == [
        ("firing", "market"),
        ("resolved", "market"),
    ]


@pytest.mark.parametrize("same_processor", [True, False])
def test_alert_of_an_entity_gone_quiet_resolves(stack, tmp_path, same_processor):
    """Only other tickers post after the burst: the open ACME alert is still evaluated (read
    up front from the hook's last open set, or on a second read by a fresh processor that
    never saw it open) and resolves once its window empties."""
    env = alert_env(stack, tmp_path, rules())
    burst = posts("ACME", range(0, 6), 2, "[neg]", "b")
    later = posts("OTHER", range(20, 30), 2, "", "o")
    if same_processor:
        feed(env, burst + later)
    else:
        feed(env, burst)
        feed(env, later)
    seen = statuses(env)
    assert [s for s, _, _ in seen] == ["firing", "resolved"]
    assert seen[0][1] < 6 and 20 <= seen[1][1] < 30
    from sentimon.keys import Keys

    assert env.redis().hgetall(Keys(env.settings.namespace).alert_open) == {}
