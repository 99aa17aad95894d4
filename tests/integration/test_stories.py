"""Stories through real Redis: a file backtest counts the stories the live consumer does,
and two writers racing on one new story open it once.

The feed (``story_rows``, shared with ``faults/test_story_crash.py``): 40 copies of two
stories about NVDA, each re-worded as outlets re-publish wire copy (prefixes, suffixes,
case, URLs, truncation), and 30 distinct pieces of news about JPM. Whatever the order and
batching, that is 2 stories of 40 posts and 30 stories of 30 posts.
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

import pytest

from consumers.dlq import CollectingDeadLetters
from consumers.records import SourceRecord
from consumers.wiring import build_processor
from sentimon.keys import ticker_entity
from sentimon.replay.job import ReplaySpec, run_replay
from sentimon.replay.merge import TimeRange
from sentimon.store.client import connect
from sentimon.store.query import Query
from sentimon.testing import HashScorer
from tests.integration.feeds import T0

pytestmark = pytest.mark.integration

COPIED, DISTINCT = "NVDA", "JPM"
#: Every post lies in [T0, AT - 1 h): a 24 h window ending at AT holds them all.
AT = T0 + 3 * 3_600_000
WANT = {COPIED: {"count": 40, "stories": 2}, DISTINCT: {"count": 30, "stories": 30}}

STORIES = (
    "Nvidia raises full-year revenue forecast to $130 billion on data-center demand",
    "Nvidia shares fall 4% after U.S. widens chip export curbs to China",
)
NEWS = (
    "JPMorgan raises its quarterly dividend to $1.40 a share",
    "JPMorgan third-quarter profit beats estimates on record trading revenue",
    "JPMorgan names Marianne Lake sole head of consumer banking",
    "JPMorgan to open 500 new branches across 30 states by 2027",
    "JPMorgan agrees to pay $75 million to settle Epstein lawsuit with Virgin Islands",
    "JPMorgan cuts 1,000 jobs in its mortgage unit as rates climb",
    "Jamie Dimon warns of a possible recession within six to nine months",
    "JPMorgan launches blockchain deposit token for institutional clients",
    "JPMorgan shares slip 2% as net interest income guidance disappoints",
    "JPMorgan buys First Republic after regulators seize the lender",
    "JPMorgan sets aside $3 billion for credit losses in second quarter",
    "JPMorgan investment banking fees jump 31% year over year",
    "JPMorgan faces probe over alleged spoofing in metals markets",
    "JPMorgan plans share buyback of up to $30 billion",
    "JPMorgan hires former Treasury official to lead Washington office",
    "JPMorgan asset management arm attracts $40 billion of inflows in July",
    "JPMorgan board approves chief executive succession plan",
    "JPMorgan credit card charge-offs rise to 3.6% in August filing",
    "JPMorgan expands private bank in Singapore with 20 hires",
    "JPMorgan wins mandate to lead Arm initial public offering",
    "JPMorgan to require employees in office five days a week from March",
    "JPMorgan commodities desk posts its best quarter since 2008",
    "JPMorgan strategists turn bearish on European equities",
    "JPMorgan fined $348 million over incomplete trade surveillance data",
    "JPMorgan ends partnership with fintech Plaid over data fees",
    "JPMorgan Chase opens its first branch in Boston Common",
    "JPMorgan economists now expect three Federal Reserve cuts this year",
    "JPMorgan mobile app outage locks millions of customers out on Monday",
    "JPMorgan sells its stake in Brazilian payments firm for $500 million",
    "JPMorgan deposits fall 1% in the first quarter as customers chase yield",
)


def rewordings(text: str) -> list[str]:
    """20 copies of ``text`` as outlets re-publish it."""
    cut = " ".join(text.split()[:-2])  # cut off two words from the end
    url = f"https://reut.rs/3x{len(text)}"
    return [
        text,
        f"UPDATE 1-{text}",
        f"BREAKING: {text}",
        f"{text} - Reuters",
        f"{text} (adds details)",
        text.upper(),
        f"{text} {url}",
        f"{cut}...",
        f"UPDATE 2-{text} (adds analyst comment)",
        f"BREAKING: {text.upper()}",
        f"{text} - Bloomberg",
        f"{text} {url} - Reuters",
        f"UPDATE 1-{text} - Reuters",
        text.lower(),
        f"BREAKING: {cut}...",
        f"BREAKING: {text} (adds details)",
        f"{text.upper()} https://t.co/q{len(text)}",
        f"UPDATE 1-{cut}...",
        f"{text}. - Reuters",
        f"{text.upper()} (ADDS DETAILS)",
    ]


def story_rows(seed: int = 24) -> list[dict[str, Any]]:
    """The 70 posts, copies interleaved, 20 s apart in event time."""
    rows: list[dict[str, Any]] = []
    for s, text in enumerate(STORIES):
        for v, copy in enumerate(rewordings(text)):
            rows.append({"id": f"copy-{s}-{v}", "text": copy, "tickers": [COPIED]})
    for i, text in enumerate(NEWS):
        rows.append({"id": f"news-{i}", "text": text, "tickers": [DISTINCT]})
    random.Random(seed).shuffle(rows)
    for i, row in enumerate(rows):
        row["ts"] = T0 + i * 20_000
        row["source"] = "wire"
    return rows


def counts(query: Query) -> dict[str, dict[str, int]]:
    """Posts and stories per ticker over 24 h ending at ``AT``."""
    entities = [ticker_entity(t) for t in WANT]
    posts = query.relevance_windows(entities, 86_400, AT)
    stories = query.story_windows(entities, 86_400, AT)
    return {
        t: {"count": posts[e].all.count, "stories": stories[e].count}
        for t, e in zip(WANT, entities, strict=True)
    }


def story_ids(client: Any, namespace: str, ticker: str) -> dict[str, str]:
    """Post id -> story id, from the ticker's recent posts."""
    from sentimon.keys import RECENT_POST, Keys

    entries = client.xrange(Keys(namespace).recent(ticker_entity(ticker)))
    posts = [json.loads(fields[RECENT_POST]) for _, fields in entries]
    return {p["id"]: p["story"] for p in posts}


def assert_pure(ids: dict[str, str]) -> None:
    """Every copy of one story has one story id, and the two stories have two."""
    groups: dict[str, set[str]] = {}
    for post_id, story in ids.items():
        groups.setdefault(post_id.rsplit("-", 1)[0], set()).add(story)
    assert sorted(len(g) for g in groups.values()) == [1, 1], groups
    assert len(set().union(*groups.values())) == 2, groups


# --- a file backtest -------------------------------------------------------------------
def test_file_backtest_counts_the_stories(stack: Any, tmp_path: Path) -> None:
    uid = uuid.uuid4().hex[:8]
    settings = stack.settings(namespace=f"t-{uid}", topics=[f"news-{uid}"], model="hash")
    path = tmp_path / "news.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in story_rows()) + "\n", encoding="utf-8")
    namespace = f"bt:stories-{uid}"
    spec = ReplaySpec(namespace=namespace, span=TimeRange(None, None), files=[path],
                      report_dir=tmp_path / "report", progress=False, span_ms=60_000)  # fmt: skip
    summary = run_replay(settings, spec, scorer=HashScorer())
    client = connect(settings)
    assert counts(Query(client, namespace)) == WANT
    assert_pure(story_ids(client, namespace, COPIED))
    top = {r["ticker"]: r for r in summary["tickers"]["top"]}
    assert {t: {"count": top[t]["posts"], "stories": top[t]["stories"]} for t in WANT} == WANT


# --- two writers racing on one new story -----------------------------------------------
def _records(partition: int, copies: list[str], first_offset: int = 0) -> list[SourceRecord]:
    out = []
    for i, text in enumerate(copies):
        body = {"id": f"race-{partition}-{i}", "text": text, "ts": T0 + i * 1000,
                "tickers": [COPIED]}  # fmt: skip
        out.append(SourceRecord("n", partition, first_offset + i, T0, json.dumps(body).encode()))
    return out


def test_racing_writers_never_open_one_story_twice(stack: Any) -> None:
    """Writer A reads the (empty) index and plans its write; before it writes, writer B
    reads the index, still empty, and writes its batch of copies of the same story. A's
    write is refused on its guard, A decides again and joins B's story: one story."""
    namespace = f"race-{uuid.uuid4().hex[:8]}"
    settings = stack.settings(namespace=namespace, topics=["n"], model="hash")

    def writer() -> Any:
        return build_processor(
            settings, HashScorer(), dead_letters=CollectingDeadLetters(), hooks=[]
        )

    a, b = writer(), writer()
    copies = rewordings(STORIES[0])
    outcomes: list[str] = []
    apply = a.sink.apply

    def a_apply(plan: Any) -> Any:
        if not outcomes:  # A has read the index; B now reads and writes first
            assert plan.guards, "the story index writes carry no guards"
            b.process(_records(1, copies[10:]))
        result = apply(plan)
        outcomes.append(result.status)
        return result

    a.sink.apply = a_apply  # type: ignore[method-assign]
    a.process(_records(0, copies[:10]))
    assert outcomes == ["conflict", "ok"]
    query = Query(a.sink.client, namespace)
    entity = ticker_entity(COPIED)
    assert query.relevance_windows([entity], 86_400, AT)[entity].all.count == 20
    assert query.story_windows([entity], 86_400, AT)[entity].count == 1
    assert len(set(story_ids(a.sink.client, namespace, COPIED).values())) == 1
