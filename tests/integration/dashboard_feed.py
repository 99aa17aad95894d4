"""The live namespace the dashboard tests read (tests/integration/test_dashboard_app.py and
test_dashboard_browser.py, through the ``live`` fixture of tests/integration/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.stack import Env
from tests.integration.feeds import make_feed, publish

BURST = "NVDA"
RULES = f"""
[[rule]]
name = "dash-negative-share"
description = "test rule: any negative share on the burst ticker"
scope = "{BURST}"
kind = "negative_share"
window = "5m"
threshold = 0.02
resolve_threshold = 0.01
min_count = 10
severity = "critical"
"""
BURST_TEXTS = [
    "shares plunge after fraud probe",
    "crashes as guidance is slashed",
    "tumbles on recall and lawsuit",
    "sinks after massive losses",
]


def burst_messages(start_ms: int, n: int = 40) -> list[bytes]:
    return [
        json.dumps(
            {
                "id": f"burst-{i}",
                "text": f"${BURST} {BURST_TEXTS[i % len(BURST_TEXTS)]} ({i})",
                "ts": start_ms + i * 5_000,
                "source": "wire",
                "url": f"https://example.com/burst/{i}",
            }
        ).encode()
        for i in range(n)
    ]


def publish_raw(bootstrap: str, topic: str, values: list[bytes]) -> None:
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=[bootstrap])
    for value in values:
        producer.send(topic, value=value)
    producer.flush()
    producer.close()


def fill_live(stack: Any, model: Path, tmp_path_factory: pytest.TempPathFactory) -> Env:
    """A live namespace filled by ``sentimon consume``: a feed, then a negative burst on
    ``BURST`` that the rule in ``RULES`` alerts on."""
    rules = tmp_path_factory.mktemp("rules") / "rules.toml"
    rules.write_text(RULES)
    env = Env(stack, model, alert_rules=str(rules))
    feed = make_feed(env.news, env.social, n_valid=200, duplicates=0)
    publish(stack.bootstrap, feed)
    publish_raw(stack.bootstrap, env.news, burst_messages(feed.max_ts + 1_000))
    env.cli("consume", "--until-idle", "4")
    return env
