"""Replays through the real broker and Redis: a sub-range against counts computed from the
feed itself, determinism of the report, the CLI (list/clear/live guard), and file
backtests matching Kafka replays."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.integration.replay_history import (
    BURST,
    HOUR,
    MIN,
    RULES,
    T0,
    History,
    build_history,
    iso,
    publish,
)

pytestmark = pytest.mark.integration


def series_counts(path: Path) -> Counter[tuple[str, int]]:
    table = pq.read_table(path).to_pydict()
    return Counter(
        {
            (t, int(m.timestamp() * 1000)): c
            for t, m, c in zip(table["ticker"], table["minute"], table["count"], strict=True)
        }
    )


# --- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def scorer(tiny_model: Path) -> Any:
    from inference import load_scorer
    from sentimon.settings import load_settings

    return load_scorer(load_settings(model=str(tiny_model), backend="torch"))


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "rules.toml"
    path.write_text(RULES, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def published(stack: Any, tiny_model: Path, rules: Path) -> tuple[Any, History]:
    from tests.fixtures.stack import Env

    env = Env(stack, tiny_model, alert_rules=str(rules))
    history = build_history([env.news, env.social])
    publish(stack.bootstrap, history)
    return env, history


def replay(
    env: Any, scorer: Any, name: str, tmp: Path, span: tuple[int | None, int | None], **kw: Any
) -> dict[str, Any]:
    from sentimon.replay.job import ReplaySpec, run_replay
    from sentimon.replay.merge import TimeRange

    spec = ReplaySpec(
        namespace=name, span=TimeRange(*span), topics=[env.news, env.social],
        report_dir=tmp, progress=False, **kw,
    )  # fmt: skip
    return run_replay(env.settings, spec, scorer=scorer)


@pytest.fixture(scope="module")
def first_replay(
    published: Any, scorer: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    env, _ = published
    out = tmp_path_factory.mktemp("report1")
    summary = replay(env, scorer, f"bt:a-{env.uid}", out, (T0 + 30 * MIN, T0 + 150 * MIN))
    return summary, out


# --- tests ------------------------------------------------------------------------------
def test_subrange_report_matches_counts_computed_from_the_feed(published, first_replay):
    env, history = published
    summary, out = first_replay
    lo, hi = T0 + 30 * MIN, T0 + 150 * MIN
    valid = history.valid_in(lo, hi)
    messages = summary["messages"]
    assert messages["scored"] == len(valid)
    assert messages["dlq"] == summary["dlq"]["count"] == history.malformed_in(lo, hi) == 2
    assert messages["duplicates"] == 1
    assert series_counts(out / "series.parquet") == history.ticker_minutes(lo, hi)
    per_ticker = Counter(t for m in valid for t in m.tickers)
    assert {r["ticker"]: r["posts"] for r in summary["tickers"]["top"]} == dict(per_ticker)

    from sentimon.store.query import Query

    query = Query(env.redis(), summary["namespace"])
    assert query.market(4 * HOUR, hi).count == len(valid)
    assert query.counters()["scored"] == len(valid)
    meta = query.meta()
    assert meta["kind"] == "backtest" and meta["status"] == "done"
    assert (int(meta["range_from_ms"]), int(meta["range_to_ms"])) == (lo, hi)
    assert json.loads(meta["summary"])["messages"]["scored"] == len(valid)
    assert {p["how"] for p in summary["partitions"]} <= {"by time", "nothing at or after the start"}


def test_alerts_fire_on_the_burst_and_are_in_the_report(first_replay, rules):
    import hashlib

    summary, out = first_replay
    lines = (out / "alerts.csv").read_text().splitlines()
    rows = [dict(zip(lines[0].split(","), line.split(","), strict=False)) for line in lines[1:]]
    firing = [r for r in rows if r["status"] == "firing" and r["entity"] == f"ticker:{BURST}"]
    assert firing, lines
    # on failure, show every event of the burst's ticker
    assert T0 + 2 * HOUR <= int(firing[0]["event_ms"]) < T0 + 2 * HOUR + 3 * MIN, [
        line for line in lines if f"ticker:{BURST}" in line or line is lines[0]
    ]
    assert summary["alerts"]["per_rule"]["burst"]["firing"] >= 1
    assert summary["rules"]["sha256"] == hashlib.sha256(rules.read_bytes()).hexdigest()


def test_two_replays_of_a_range_give_identical_files(published, first_replay, tmp_path):
    env, _ = published
    summary, out = first_replay
    name = f"second-{env.uid}"
    proc = env.cli(
        "replay", "--topic", env.news, "--topic", env.social,
        "--from", iso(T0 + 30 * MIN), "--to", str(T0 + 150 * MIN),
        "--namespace", name, "--report", str(tmp_path), "--json",
    )  # fmt: skip
    second = json.loads(proc.stdout)
    assert second["namespace"] == f"bt:{name}"
    assert "event" in proc.stderr  # the progress bar shows the event time reached
    for file in ("alerts.csv", "series.parquet"):
        assert (tmp_path / file).read_bytes() == (out / file).read_bytes(), file
    assert second["files"] == summary["files"]
    assert second["messages"]["scored"] == summary["messages"]["scored"]


def test_list_clear_and_the_live_guard(published, first_replay):
    env, _ = published
    summary, _ = first_replay
    name = summary["namespace"]
    listed = json.loads(env.cli("replay", "list", "--json").stdout)
    assert name in [row["namespace"] for row in listed]
    assert env.settings.namespace not in [row["namespace"] for row in listed]

    refused = env.cli("replay", "clear", env.settings.namespace, check=False)
    assert refused.returncode == 2 and "live namespace" in refused.stderr
    into_live = env.cli("replay", "--topic", env.news, "--namespace", "live", check=False)
    assert into_live.returncode == 2 and "live namespace" in into_live.stderr

    client = env.redis()
    victim = f"bt:victim-{env.uid}"
    client.hset(f"sentimon:{{{victim}}}:meta", "kind", "backtest")
    client.sadd("sentimon:namespaces", victim)
    cleared = json.loads(env.cli("replay", "clear", f"victim-{env.uid}", "--json").stdout)
    assert cleared == {"namespace": victim, "keys_removed": 1}
    assert not client.sismember("sentimon:namespaces", victim)
    assert client.exists(f"sentimon:{{{name}}}:meta")  # other namespaces untouched

    again = env.cli("replay", "--topic", env.news, "--namespace", name, check=False)
    assert again.returncode == 2 and "already holds data" in again.stderr


def test_file_backtest_counts_like_the_kafka_replay(published, first_replay, scorer, tmp_path):
    from sentimon.replay.job import ReplaySpec, run_replay
    from sentimon.replay.merge import TimeRange

    env, history = published
    summary, out = first_replay
    files = []
    for topic in (env.news, env.social):
        path = tmp_path / f"{topic}.jsonl"
        lines = [
            m.value.decode()
            for m in history.messages
            if m.topic == topic and m.event_ms is not None
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append(path)
    spec = ReplaySpec(
        namespace=f"bt:files-{env.uid}", span=TimeRange(T0 + 30 * MIN, T0 + 150 * MIN),
        files=files, report_dir=tmp_path / "report", progress=False,
    )  # fmt: skip
    result = run_replay(env.settings, spec, scorer=scorer)
    assert result["messages"]["scored"] == summary["messages"]["scored"]
    assert result["messages"]["no_event_time"] == 0
    assert series_counts(tmp_path / "report" / "series.parquet") == series_counts(
        out / "series.parquet"
    )
    assert (
        result["alerts"]["per_rule"]["burst"]["firing"]
        == summary["alerts"]["per_rule"]["burst"]["firing"]
    )


def test_report_with_prices_gives_forward_returns_per_alert(published, first_replay, tmp_path):
    env, _ = published
    summary, _ = first_replay
    drop_at = T0 + 2 * HOUR + 10 * MIN  # the price falls 5% ten minutes into the burst
    prices = tmp_path / "prices.csv"
    rows = [
        f"{BURST},{t},{100.0 if t < drop_at else 95.0}"
        for t in range(T0, T0 + 2 * 86_400_000, 5 * MIN)
    ]
    prices.write_text("ticker,ts,price\n" + "\n".join(rows) + "\n", encoding="utf-8")
    proc = env.cli(
        "replay", "report", summary["namespace"].removeprefix("bt:"),
        "--report", str(tmp_path / "r"), "--prices", str(prices), "--json",
    )  # fmt: skip
    result = json.loads(proc.stdout)
    burst = result["prices"]["per_rule"]["burst"]
    assert burst["priced"] >= 1
    assert burst["horizons"]["15m"]["mean_return"] == pytest.approx(-0.05)
    assert burst["worst_max_drawdown_1d"] == pytest.approx(-0.05)
    assert result["messages"] == summary["messages"]  # run metadata kept from the replay
    lines = (tmp_path / "r" / "alerts.csv").read_text().splitlines()
    header = lines[0].split(",")
    assert header[-4:] == ["ret_15m", "ret_1h", "ret_1d", "max_drawdown_1d"]
    firing = next(line for line in lines[1:] if ",firing," in line and f"ticker:{BURST}" in line)
    assert firing.split(",")[-4] == "-0.05"
