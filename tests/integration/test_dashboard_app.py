"""The dashboard under Streamlit's AppTest, against a real Redis filled by the real pipeline.

One live namespace (the ``live`` fixture, shared with the browser test) is filled once by
``sentimon consume`` linking posts to a small universe (a feed, posts naming companies by
name, market wraps naming some in passing, and a negative burst on one ticker that fires
an alert); a second, backtest-style namespace is written through the real sink with
different tickers.
"""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.session import namespace_label
from dashboard.story_groups import group_by_story, summary
from dashboard.timefmt import utc
from sentimon.keys import MARKET, sector_entity, ticker_entity
from tests.fixtures.stack import Env, settings_env
from tests.integration.dashboard_feed import (
    BURST,
    SECTORS,
    WIRE,
    WIRE_COPIES,
    WIRE_HEADLINE,
    WIRE_OTHER,
    WIRE_STORY,
)
from tests.integration.feeds import T0
from tests.paths import ROOT

pytestmark = pytest.mark.integration

APP = ROOT / "dashboard" / "app.py"
BT_TICKERS = ("ZZA", "ZZB", "ZZC")


@pytest.fixture(scope="module")
def backtest(live: Env) -> str:
    """A second, backtest-style namespace with other tickers, written through the real sink."""
    from sentimon.aggregate import ScoredPost, aggregate
    from sentimon.contract import Post
    from sentimon.keys import REGISTRY, Keys
    from sentimon.replay.namespaces import write_meta
    from sentimon.store.sink import RedisSink
    from sentimon.writeplan import WritePlan, plan_aggregates

    namespace = f"bt:dash-{uuid.uuid4().hex[:6]}"
    client, keys = live.redis(), Keys(namespace)
    posts = [
        ScoredPost(
            Post(f"bt-{i}", f"${sym} update {i}", T0 + i * 30_000, "news", "wire", (sym,)),
            "negative" if i % 3 else "positive", -0.5 if i % 3 else 0.5, "bt-model",
        )
        for i in range(60)
        for sym in [BT_TICKERS[i % len(BT_TICKERS)]]
    ]  # fmt: skip
    plan = WritePlan()
    plan_aggregates(plan, keys, aggregate(posts), retention_s=86400, recent=50)
    assert RedisSink(client, keys, dedup_horizon_s=0).apply(plan).ok
    summary = {"messages": {"scored": 60}, "alerts": {"events": 2, "alerts": 1, "per_rule": {}}}
    write_meta(client, namespace, {
        "kind": "backtest", "status": "done", "range_from_ms": T0,
        "range_to_ms": T0 + 60 * 30_000, "summary": summary,
    })  # fmt: skip
    client.sadd(REGISTRY, namespace)
    return namespace


@pytest.fixture
def app_env(live: Env, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The live env's SENTIMON_* settings in this process, where AppTest runs the app."""
    for name in [k for k in os.environ if k.startswith("SENTIMON_")]:
        monkeypatch.delenv(name)
    for name, value in settings_env(live.settings).items():
        monkeypatch.setenv(name, value)
    yield


def run_app(monkeypatch: pytest.MonkeyPatch | None = None, **env: str) -> AppTest:
    for name, value in env.items():
        assert monkeypatch is not None
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    failed = [w.value for w in at.warning if "could not be drawn" in w.value]
    assert not failed, failed
    return at


def ticker_table(at: AppTest) -> Any:
    return at.container(key="ticker_panel").dataframe[0].value


def query_json(env: Env, *args: str) -> Any:
    return json.loads(env.cli("query", *args, "--json").stdout)


def same(shown: Any, expected: float | None) -> bool:
    if expected is None:
        return shown is None or (isinstance(shown, float) and math.isnan(shown))
    return math.isclose(float(shown), expected, abs_tol=1e-6)


def test_ticker_numbers_equal_sentimon_query(live: Env, app_env: None) -> None:
    at = run_app()
    table = ticker_table(at).set_index("ticker")
    minimum = live.settings.min_relevance
    assert at.selectbox(key="min_relevance").value == minimum  # SENTIMON_MIN_RELEVANCE
    top = query_json(live, "top", "--window", "24h", "--limit", "500")
    assert {r["ticker"] for r in top} <= set(table.index)
    query = live.query()
    for window, seconds in (("5m", 300), ("1h", 3600)):
        got = query.relevance_windows([ticker_entity(str(s)) for s in table.index], seconds)
        for symbol, row in table.iterrows():
            stats = got[ticker_entity(str(symbol))]
            relevant = stats.at_least(minimum)
            assert row[f"n_{window}"] == relevant.count, (symbol, window)
            assert same(row[f"mean_{window}"], relevant.mean_score), (symbol, window)
            if window == "1h":
                assert same(row["neg_1h"], relevant.negative_share), symbol
                assert same(row["wmean_1h"], stats.weighted_mean), symbol
    assert table.loc[BURST, "n_5m"] >= 10  # the burst is in the last five minutes
    hour = query_json(live, "ticker", BURST, "--window", "1h")
    # the market wraps name it in passing: counted in every mention, not the relevant ones
    assert table.loc[BURST, "n_1h"] == hour["relevant"]["count"] < hour["count"]
    assert same(table.loc[BURST, "wmean_1h"], hour["weighted"]["mean_score"])

    at.selectbox(key="ticker").select(BURST).run()
    assert not at.exception
    panel = at.container(key="drilldown_panel")
    metrics = {m.label: m.value for m in panel.metric}
    assert metrics["Posts 1h"] == f"{hour['relevant']['count']:,}"
    assert metrics["Index 1h"] == f"{hour['relevant']['mean_score']:+.3f}"
    stories = panel.dataframe[0].value
    stored = query.recent_posts(BURST, 50)  # every post naming it, however relevant
    assert stories["copies"].sum() == len(stored)
    assert len(stories) == len({p["story"] for p in stored})
    assert stories["url"].str.startswith("https://example.com/burst/").any()


def test_the_min_relevance_control_recounts_tickers_and_sectors(live: Env, app_env: None) -> None:
    at = run_app()
    before = ticker_table(at).set_index("ticker")
    at.selectbox(key="min_relevance").select(0.0).run()
    assert not at.exception
    every = ticker_table(at).set_index("ticker")
    hour = query_json(live, "ticker", BURST, "--window", "1h")
    assert every.loc[BURST, "n_1h"] == hour["count"] > before.loc[BURST, "n_1h"]
    assert every.loc["PEP", "n_1h"] == 4 and before.loc["PEP", "n_1h"] == 1  # 3 wraps
    assert any("every mention" in c.value for c in at.container(key="ticker_panel").caption)
    sectors = at.container(key="sector_panel").dataframe[0].value
    assert (sectors["posts"] == sectors["mentions"]).all()


def test_sector_view_equals_sentimon_query(live: Env, app_env: None) -> None:
    at = run_app()
    panel = at.container(key="sector_panel")
    table = panel.dataframe[0].value
    assert sorted(table["sector"]) == SECTORS  # every sector of the universe
    assert list(table["posts"]) == sorted(table["posts"], reverse=True)  # most active first
    minimum = live.settings.min_relevance
    entities = [sector_entity(s) for s in SECTORS]
    got = live.query().relevance_windows(entities, 6 * 3600)  # the default chart range
    for _, row in table.iterrows():
        stats = got[sector_entity(row["sector"])]
        relevant = stats.at_least(minimum)
        assert row["posts"] == relevant.count and row["mentions"] == stats.all.count
        assert same(row["mean"], relevant.mean_score), row["sector"]
        assert same(row["wmean"], stats.weighted_mean), row["sector"]
        assert same(row["neg_share"], relevant.negative_share), row["sector"]
    top = table.iloc[0]
    cli = query_json(live, "sector", top["sector"], "--window", "6h")
    assert top["posts"] == cli["relevant"]["count"] > 0
    assert same(top["mean"], cli["relevant"]["mean_score"])
    assert any(f"Most active: **{top['sector']}**" in c.value for c in panel.caption)
    utilities = table.set_index("sector").loc["Utilities"]  # in the universe, never named
    assert utilities["posts"] == 0 and math.isnan(utilities["mean"])


def test_drilldown_lists_each_posts_companies_and_marks_passing_mentions(
    live: Env, app_env: None
) -> None:
    at = run_app()
    at.selectbox(key="ticker").select("PEP").run()
    assert not at.exception
    panel = at.container(key="drilldown_panel")
    posts = panel.dataframe[0].value.set_index("text")
    assert len(posts) == 4
    pair = posts.loc["Coca-Cola gains on upbeat forecast while PepsiCo slides"]
    assert re.fullmatch(r"KO (positive|neutral|negative) · 0\.8, PEP \w+ · 0\.6", pair["entities"])
    assert pair["relevance"] == 0.6 and not pair["low_relevance"]
    assert pair["label"] == pair["entities"].split(", ")[1].split()[1]  # PEP's, not the post's
    wraps = posts[posts.index.str.startswith("Midday movers")]
    assert len(wraps) == 3 and wraps["low_relevance"].all() and (wraps["relevance"] == 0.2).all()
    assert all(e.startswith("MSFT ") and "PEP " in e and " · 0.2" in e for e in wraps["entities"])
    assert any("only in passing" in c.value for c in panel.caption)


def test_market_overview_matches_sentimon_query(live: Env, app_env: None) -> None:
    at = run_app()
    assert len(at.get("vega_lite_chart")) == 2  # market and drill-down charts
    metrics = {m.label: m.value for m in at.container(key="market_panel").metric}
    hour = query_json(live, "market", "--window", "1h")
    five = query_json(live, "market", "--window", "5m")
    assert metrics["Posts 1h"] == f"{hour['count']:,}"
    assert metrics["Index 1h"] == f"{hour['mean_score']:+.3f}"
    assert metrics["Index 5m"] == f"{five['mean_score']:+.3f}"
    assert metrics["Negative share 1h"] == f"{hour['negative_share']:.0%}"
    assert any(f"As of {utc(five['end_ms'])}" in c.value for c in at.caption)


def test_alerts_feed_shows_the_alert_the_pipeline_fired(live: Env, app_env: None) -> None:
    listing = json.loads(live.cli("alerts", "list", "--json").stdout)
    fired = [h for h in listing["history"] if h["status"] == "firing"]
    assert fired, "the burst should have fired dash-negative-share"
    alert = fired[0]["payload"]
    at = run_app()
    panel = at.container(key="alerts_panel")
    cards = " ".join(m.value for m in panel.markdown)
    assert "dash-negative-share" in cards and f"ticker:{BURST}" in cards
    assert ":red-badge[critical]" in cards and ":red-badge[firing]" in cards
    assert {m.label: m.value for m in panel.metric}["Open (firing)"] == str(len(listing["open"]))
    stats = alert["stats"]
    assert f"posts **{stats['count']:,}**" in cards
    assert any("alert(s) firing" in e.value for e in at.error)  # banner on the main tab
    at.selectbox(key="ticker").select(BURST).run()
    drill = " ".join(m.value for m in at.container(key="drilldown_panel").markdown)
    assert "dash-negative-share" in drill


def test_switching_namespace_switches_the_data(live: Env, backtest: str, app_env: None) -> None:
    at = run_app()
    assert BURST in set(ticker_table(at)["ticker"])
    assert namespace_label(backtest) in at.selectbox(key="namespace").options
    at.selectbox(key="namespace").select(backtest).run()
    assert not at.exception
    assert set(ticker_table(at)["ticker"]) == set(BT_TICKERS)
    assert at.query_params.get("ns") == backtest
    box = at.container(key="backtest_box")
    text = " ".join(m.value for m in box.markdown)
    assert "Backtest" in text and "2026-10-26" in text
    assert {m.label: m.value for m in box.metric}["Alerts opened"] == "1"
    at.selectbox(key="namespace").select(live.settings.namespace).run()
    assert BURST in set(ticker_table(at)["ticker"])


def test_empty_namespace_shows_a_friendly_state(
    live: Env, app_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = run_app(monkeypatch, SENTIMON_NAMESPACE=f"empty-{uuid.uuid4().hex[:6]}")
    assert not at.exception
    assert at.container(key="empty_state").info, "expected the empty-state message"
    assert "Nothing ingested" in at.container(key="empty_state").info[0].value
    assert not at.get("vega_lite_chart")


def test_unreachable_redis_is_a_warning_not_a_traceback(
    live: Env, app_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sentimon.stack.services import free_port

    at = run_app(monkeypatch, SENTIMON_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert not at.exception
    assert any("Redis is not answering" in w.value for w in at.warning)


def test_pipeline_health_shows_counters_dlq_and_model(live: Env, app_env: None) -> None:
    at = run_app()
    panel = at.container(key="health_panel")
    metrics = {m.label: m.value for m in panel.metric}
    status = json.loads(live.cli("status", "--json").stdout)
    assert metrics["Dead-lettered"] == f"{sum(status['dlq'].values()):,}"
    assert metrics["Records"] == f"{status['counters']['records']:,}"
    assert metrics["Scored"] == f"{status['counters']['scored']:,}"
    assert any(f"`{status['model']}`" in m.value for m in panel.markdown)
    tables = [df.value for df in panel.dataframe]
    dlq = next(t for t in tables if "topic" in t.columns and "seconds (est.)" not in t.columns)
    assert dict(zip(dlq["topic"], dlq["messages"], strict=True)) == status["dlq"]
    consumers = [t for t in tables if "consumer" in t.columns]
    assert len(consumers) == (1 if status["consumers"] else 0)
    if consumers:  # the consumer has exited; its last snapshot is kept
        assert len(consumers[0]) == len(status["consumers"])
        assert consumers[0].iloc[0]["last batch (UTC)"].endswith("UTC")


def test_silencing_is_offered_only_when_writes_are_allowed(
    live: Env, app_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = run_app()
    assert not at.button, "read-only by default: no form, no buttons"
    assert any("Read-only" in c.value for c in at.caption)

    at = run_app(
        monkeypatch, SENTIMON_DASHBOARD_ALLOW_WRITES="true", SENTIMON_DASHBOARD_REFRESH_S="7"
    )
    assert any("every 7 s" in c.value for c in at.caption)
    reason = f"dashboard test {uuid.uuid4().hex[:6]}"
    form = at.container(key="alerts_panel")
    form.text_input[0].input(f"ticker={BURST}")
    form.text_input[1].input("30m")
    form.text_input[2].input(reason)
    at.button[0].click().run()
    assert not at.exception
    assert any("Silenced ticker=" in s.value for s in at.success)
    from sentimon.alerts.silence_store import SilenceStore
    from sentimon.keys import Keys

    store = SilenceStore(live.redis(), Keys(live.settings.namespace))
    mine = [s for s in store.listing() if s["reason"] == reason]
    assert mine and mine[0]["active"] and mine[0]["matchers"] == [f"ticker={BURST}"]
    assert mine[0]["by"] == "dashboard"
    store.expire(mine[0]["id"])


def test_copies_of_a_wire_story_are_one_row_and_one_story(live: Env, app_env: None) -> None:
    """The wire story re-worded by three outlets is one story: one row in the drill-down
    with its copies listed beneath, one story in the ticker table and the market."""
    query = live.query()
    stored = {p["id"]: p for p in query.recent_posts(WIRE, 50)}
    assert {stored[pid]["story"] for pid, *_ in WIRE_COPIES} == {WIRE_STORY}  # the pipeline's
    assert stored[WIRE_OTHER[0]]["story"] == WIRE_OTHER[0]  # similar, but other news
    at = run_app()
    at.selectbox(key="ticker").select(WIRE).run()
    assert not at.exception
    panel = at.container(key="drilldown_panel")
    rows = panel.dataframe[0].value.set_index("text")
    wire = rows.loc[WIRE_HEADLINE]
    first_at = utc(stored[WIRE_STORY]["ts"])[11:16]
    assert wire["story"] == f"4 copies, first by Newswire at {first_at}" and wire["copies"] == 4
    assert wire["source"] == "Newswire"
    assert rows.loc[WIRE_OTHER[2], "copies"] == 1
    assert rows["copies"].sum() == len(stored)  # every post in view, in one row per story
    copies = panel.expander[0].dataframe[0].value
    mine = copies[copies["story"].str.startswith("4 copies, first by Newswire")]
    assert sorted(mine["text"]) == sorted(text for _, _, text, _ in WIRE_COPIES)
    assert list(mine[mine["first"]]["source"]) == ["Newswire"]
    assert "Stories" in [t.label for t in panel.toggle]


def test_stories_per_hour_equal_the_story_reads(live: Env, app_env: None) -> None:
    at = run_app()
    table = ticker_table(at).set_index("ticker")
    query = live.query()
    entities = [ticker_entity(str(s)) for s in table.index]
    stories = query.story_windows([MARKET, *entities], 3600)
    for symbol, row in table.iterrows():
        assert row["st_1h"] == stories[ticker_entity(str(symbol))].count, symbol
    # the four copies of the wire story are four posts but one story
    posts = query.window(ticker_entity(WIRE), 3600).count
    assert stories[ticker_entity(WIRE)].count <= posts - 3
    assert table.loc[WIRE, "st_1h"] >= 2  # the wire story and the other recall
    metrics = {m.label: m.value for m in at.container(key="market_panel").metric}
    assert metrics["Stories 1h"] == f"{stories[MARKET].count:,}"
    feed = at.container(key="feed_panel").dataframe[0].value
    groups = group_by_story(query.recent_posts(None, 50))
    assert list(feed["copies"]) == [g.copies for g in groups]
    assert list(feed["story"]) == [summary(g) for g in groups]


def test_picking_a_post_explains_its_score_on_the_configured_model(
    live: Env, app_env: None
) -> None:
    at = run_app()
    picker = at.selectbox(key="feed_why")
    assert picker.value is None and not at.get("html")  # no model loaded until asked
    post = picker.options[0]
    picker.select_index(0).run()
    assert not at.exception, [e.value for e in at.exception]
    page = at.container(key="feed_explanation").get("html")[0].proto.body
    assert 'class="why-text"' in page and "why-word why-" in page  # coloured words
    assert "occlusion" in page and "tiny@" in page
    assert post.split(" · ", 1)[1][:40].split()[0] in page


def test_without_a_model_the_explanation_says_so(
    live: Env, app_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    at = run_app(monkeypatch, SENTIMON_MODEL=str(tmp_path / "no-such-model"))
    at.selectbox(key="feed_why").select_index(0).run()
    assert not at.exception, [e.value for e in at.exception]
    info = at.container(key="feed_explanation").info
    assert info and "No model available to explain scores" in info[0].value
