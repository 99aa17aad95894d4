"""The live namespace the dashboard tests read (tests/integration/test_dashboard_app.py and
test_dashboard_browser.py, through the ``live`` fixture of tests/integration/conftest.py).

The pipeline links posts to the companies of a small universe written here (``UNIVERSE``:
the tests do not depend on the shipped file's contents), so besides the feed's tickers
and cashtags there are posts naming companies only by name, posts naming two companies
with different sentiment, and market wraps naming ``BURST`` in passing (relevance 0.2).
A wire story about ``WIRE`` is re-published as outlets re-word wire copy (``WIRE_COPIES``:
"UPDATE 1-", " - Reuters", upper case), beside a similar but different story: the
consumer's story index makes the copies one story (``WIRE_STORY``), the other its own.
"""

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
UNIVERSE = """ticker,name,aliases,exchange,sector,ambiguous
AAPL,Apple,,NASDAQ,Information Technology,Apple
MSFT,Microsoft,,NASDAQ,Information Technology,
NVDA,Nvidia,,NASDAQ,Information Technology,
INTC,Intel,,NASDAQ,Information Technology,
AMZN,Amazon,,NASDAQ,Consumer Discretionary,Amazon
TSLA,Tesla,,NASDAQ,Consumer Discretionary,
JPM,JPMorgan Chase,JPMorgan,NYSE,Financials,
BRK.B,Berkshire Hathaway,,NYSE,Financials,
XOM,ExxonMobil,Exxon,NYSE,Energy,
CVX,Chevron,,NYSE,Energy,
KO,Coca-Cola,,NYSE,Consumer Staples,
PEP,PepsiCo,,NASDAQ,Consumer Staples,
NEE,NextEra Energy,NextEra,NYSE,Utilities,
"""
SECTORS = sorted({line.split(",")[4] for line in UNIVERSE.splitlines()[1:]})
#: Named without a cashtag or tickers field; the first two name two companies each.
NAMED_TEXTS = [
    "Coca-Cola gains on upbeat forecast while PepsiCo slides",
    "Chevron climbs after record quarterly output, but ExxonMobil falls on refinery outage",
    "Nvidia shares climb after data-center sales beat estimates",
    "Intel cuts its outlook as PC demand stays weak",
]
#: Market wraps naming nine companies: the last, BURST, at relevance 0.2 (first: 0.4).
WRAP_TEXT = (
    "Midday movers: Microsoft, Intel, Tesla, Chevron, ExxonMobil, Coca-Cola, PepsiCo, "
    "JPMorgan and Nvidia all traded in narrow ranges ({i})"
)
WIRE = "TSLA"
WIRE_HEADLINE = "Tesla recalls 120,000 Model Y vehicles over seat-belt fault"
#: (id, source, text, minutes after the first): the original, then three re-worded copies.
WIRE_COPIES = [
    ("wire-story", "Newswire", WIRE_HEADLINE, 0),
    ("wire-copy-1", "Reuters", f"UPDATE 1-{WIRE_HEADLINE}", 1),
    ("wire-copy-2", "Yahoo Finance", f"{WIRE_HEADLINE} - Reuters", 2),
    ("wire-copy-3", "StockTwits", WIRE_HEADLINE.upper(), 4),
]
WIRE_STORY = WIRE_COPIES[0][0]
#: Similar in topic, different in news: a story of its own.
WIRE_OTHER = ("wire-other", "Newswire", "Tesla recalls 12,000 Model S vehicles over brake fault", 6)
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


def named_messages(start_ms: int, wraps: int = 3) -> list[bytes]:
    """Posts linked by company name only (one a minute from ``start_ms``), then ``wraps``
    market wraps naming ``BURST`` in passing."""
    texts = [*NAMED_TEXTS, *(WRAP_TEXT.format(i=i) for i in range(wraps))]
    return [
        json.dumps(
            {"id": f"named-{i}", "text": text, "ts": start_ms + i * 60_000, "source": "wire"}
        ).encode()
        for i, text in enumerate(texts)
    ]


def wire_messages(start_ms: int) -> list[bytes]:
    """``WIRE_COPIES`` and ``WIRE_OTHER``, from ``start_ms``, in publication order."""
    return [
        json.dumps(
            {
                "id": pid,
                "text": text,
                "ts": start_ms + minutes * 60_000,
                "source": source,
                "url": f"https://example.com/{pid}",
            }
        ).encode()
        for pid, source, text, minutes in [*WIRE_COPIES, WIRE_OTHER]
    ]


def publish_raw(bootstrap: str, topic: str, values: list[bytes], key: bytes | None = None) -> None:
    """Publish ``values`` to ``topic``; with a ``key`` all go to one partition, in order."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=[bootstrap])
    for value in values:
        producer.send(topic, value=value, key=key)
    producer.flush()
    producer.close()


def fill_live(stack: Any, model: Path, tmp_path_factory: pytest.TempPathFactory) -> Env:
    """A live namespace filled by ``sentimon consume`` linking posts to ``UNIVERSE``: a
    feed, posts naming companies (20 minutes before its end), a wire story and its copies
    (from 12 minutes before its end; one partition, so the original is read first), then
    a negative burst on ``BURST`` that the rule in ``RULES`` alerts on."""
    folder = tmp_path_factory.mktemp("rules")
    (folder / "rules.toml").write_text(RULES)
    (folder / "universe.csv").write_text(UNIVERSE)
    env = Env(
        stack, model, alert_rules=str(folder / "rules.toml"), universe=folder / "universe.csv"
    )
    feed = make_feed(env.news, env.social, n_valid=200, duplicates=0)
    publish(stack.bootstrap, feed)
    publish_raw(stack.bootstrap, env.news, named_messages(feed.max_ts - 20 * 60_000))
    publish_raw(stack.bootstrap, env.news, wire_messages(feed.max_ts - 12 * 60_000), b"wire")
    publish_raw(stack.bootstrap, env.news, burst_messages(feed.max_ts + 1_000))
    env.cli("consume", "--until-idle", "4")
    return env
